// The frozen hashing vectors (tests/registry/vectors/hashing_v1.json), produced by the
// Python core, checked against ReceivableHashing on the Hardhat network: Python and
// Solidity agree byte for byte on tags, field leaves, the document root and batch proofs.
const { expect } = require("chai");
const { ethers } = require("hardhat");
const { loadFixture } = require("@nomicfoundation/hardhat-network-helpers");
const vectors = require("../registry/vectors/hashing_v1.json");

describe("ReceivableHashing golden vectors (v1)", function () {
  async function deployHarness() {
    const harness = await ethers.deployContract("ReceivableHashingHarness");
    return { harness };
  }

  it("has the frozen domain tags", async function () {
    const { harness } = await loadFixture(deployHarness);
    expect(await harness.FIELD_TAG()).to.equal(vectors.field_tag);
    expect(await harness.DOCUMENT_TAG()).to.equal(vectors.document_tag);
  });

  it("computes every field leaf of the sample invoice", async function () {
    const { harness } = await loadFixture(deployHarness);
    for (const field of vectors.fields) {
      const leaf = await harness.fieldLeaf(field.salt, field.path, ethers.toUtf8Bytes(field.value_json));
      expect(leaf, field.path).to.equal(field.leaf);
    }
  });

  it("computes the document root from the field root", async function () {
    const { harness } = await loadFixture(deployHarness);
    expect(await harness.documentRoot(vectors.field_root)).to.equal(vectors.document_root);
  });

  it("accepts every batch proof and computes every batch leaf", async function () {
    const { harness } = await loadFixture(deployHarness);
    const { batch } = vectors;
    for (let i = 0; i < batch.document_roots.length; i += 1) {
      expect(await harness.batchLeaf(batch.document_roots[i])).to.equal(batch.leaves[i]);
      expect(await harness.verifyDocument(batch.document_roots[i], batch.root, batch.proofs[i])).to.equal(true);
    }
  });

  it("refuses a batch proof presented for another document root", async function () {
    const { harness } = await loadFixture(deployHarness);
    const { batch } = vectors;
    expect(await harness.verifyDocument(batch.document_roots[1], batch.root, batch.proofs[0])).to.equal(false);
  });
});
