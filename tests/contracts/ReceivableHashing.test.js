const { ethers } = require("hardhat");
const { expect } = require("chai");
const { loadFixture } = require("@nomicfoundation/hardhat-network-helpers");
const { SimpleMerkleTree, StandardMerkleTree } = require("@openzeppelin/merkle-tree");

// Independent JavaScript statement of hashing scheme version 1 (see contracts/ReceivableHashing.sol).
const FIELD_TAG = ethers.keccak256(ethers.toUtf8Bytes("receivables.field.v1"));
const DOCUMENT_TAG = ethers.keccak256(ethers.toUtf8Bytes("receivables.document.v1"));

const utf8Keccak = text => ethers.keccak256(ethers.toUtf8Bytes(text));

const fieldLeaf = (salt, path, valueJson) =>
  ethers.solidityPackedKeccak256(
    ["bytes32", "bytes32", "bytes32", "bytes32"],
    [FIELD_TAG, salt, utf8Keccak(path), utf8Keccak(valueJson)],
  );

const documentRoot = fieldRoot => ethers.solidityPackedKeccak256(["bytes32", "bytes32"], [DOCUMENT_TAG, fieldRoot]);

const batchLeaf = root =>
  ethers.keccak256(ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(["bytes32"], [root])));

// A document as (salt, RFC 6901 path, RFC 8785 value) triples; the values are already canonical JSON.
const FIELDS = [
  ["/invoiceNumber", '"INV-2025-0042"'],
  ["/amount", '{"currency":"EUR","minor":125000}'],
  ["/dueOn", '"2025-09-30"'],
  ["/buyer/name", '"Société Générale d\'Électricité"'],
  ["/lines/0/description", '"Bolts, M8 ~ stainless"'],
  ["/a~1b/c~0d", "null"],
  ["", "{}"],
].map(([path, valueJson], i) => ({ salt: ethers.id(`salt-${i}`), path, valueJson }));

function buildDocument(fields) {
  const leaves = fields.map(({ salt, path, valueJson }) => fieldLeaf(salt, path, valueJson));
  const fieldTree = SimpleMerkleTree.of(leaves);
  return { fields, leaves, fieldTree, documentRoot: documentRoot(fieldTree.root) };
}

async function deployHarnessFixture() {
  const harness = await ethers.deployContract("ReceivableHashingHarness");
  const document = buildDocument(FIELDS);
  return { harness, document };
}

describe("ReceivableHashing", function () {
  it("uses version 1 and the tags of its name", async function () {
    const { harness } = await loadFixture(deployHarnessFixture);

    expect(await harness.VERSION()).to.equal(1n);
    expect(await harness.FIELD_TAG()).to.equal(FIELD_TAG);
    expect(await harness.DOCUMENT_TAG()).to.equal(DOCUMENT_TAG);
    // Frozen: a change here is a new scheme version, not a fix.
    expect(FIELD_TAG).to.equal("0x176c579bcd4dc4315fa20eb409e3cc19c9c77bd1ece757fa9550c71e46e95ab3");
    expect(DOCUMENT_TAG).to.equal("0xa040caf7f965aeedba6456d7b3ae990e165952e477f3a7ffe00dd47471649974");
  });

  describe("fieldLeaf", function () {
    it("matches keccak256(FIELD_TAG, salt, keccak256(path), keccak256(valueJson))", async function () {
      const { harness } = await loadFixture(deployHarnessFixture);

      for (const { salt, path, valueJson } of FIELDS) {
        expect(await harness.fieldLeaf(salt, path, ethers.toUtf8Bytes(valueJson))).to.equal(
          fieldLeaf(salt, path, valueJson),
        );
      }
    });

    it("changes with the salt, the path and the value", async function () {
      const { harness } = await loadFixture(deployHarnessFixture);
      const { salt, path, valueJson } = FIELDS[0];
      const value = ethers.toUtf8Bytes(valueJson);

      const leaf = await harness.fieldLeaf(salt, path, value);

      expect(await harness.fieldLeaf(ethers.id("other salt"), path, value)).to.not.equal(leaf);
      expect(await harness.fieldLeaf(salt, "/invoiceNumber/0", value)).to.not.equal(leaf);
      expect(await harness.fieldLeaf(salt, path, ethers.toUtf8Bytes('"INV-2025-0043"'))).to.not.equal(leaf);
    });

    it("hashes path and value separately, so moving bytes between them changes the leaf", async function () {
      const { harness } = await loadFixture(deployHarnessFixture);
      const salt = ethers.ZeroHash;

      expect(await harness.fieldLeaf(salt, "/a", ethers.toUtf8Bytes('"b"'))).to.not.equal(
        await harness.fieldLeaf(salt, '/a"', ethers.toUtf8Bytes('b"')),
      );
    });
  });

  describe("documentRoot", function () {
    it("matches keccak256(DOCUMENT_TAG, fieldRoot)", async function () {
      const { harness, document } = await loadFixture(deployHarnessFixture);

      expect(await harness.documentRoot(document.fieldTree.root)).to.equal(document.documentRoot);
      expect(await harness.documentRoot(ethers.ZeroHash)).to.equal(
        ethers.keccak256(ethers.concat([DOCUMENT_TAG, ethers.ZeroHash])),
      );
    });
  });

  describe("batchLeaf", function () {
    it("matches the StandardMerkleTree leaf over bytes32", async function () {
      const { harness, document } = await loadFixture(deployHarnessFixture);
      const tree = StandardMerkleTree.of([[document.documentRoot]], ["bytes32"]);

      expect(await harness.batchLeaf(document.documentRoot)).to.equal(batchLeaf(document.documentRoot));
      expect(await harness.batchLeaf(document.documentRoot)).to.equal(tree.leafHash([document.documentRoot]));
    });
  });

  describe("verifyField", function () {
    for (const variant of ["verifyField", "verifyFieldCalldata"]) {
      describe(variant, function () {
        it("accepts every field of the document", async function () {
          const { harness, document } = await loadFixture(deployHarnessFixture);

          for (const [index, { salt, path, valueJson }] of document.fields.entries()) {
            const proof = document.fieldTree.getProof(document.leaves[index]);
            expect(await harness[variant](document.documentRoot, salt, path, ethers.toUtf8Bytes(valueJson), proof)).to
              .be.true;
          }
        });

        it("accepts the only field of a single-field document with an empty proof", async function () {
          const { harness } = await loadFixture(deployHarnessFixture);
          const single = buildDocument(FIELDS.slice(0, 1));
          const { salt, path, valueJson } = single.fields[0];

          expect(single.fieldTree.root).to.equal(single.leaves[0]);
          expect(await harness[variant](single.documentRoot, salt, path, ethers.toUtf8Bytes(valueJson), [])).to.be.true;
        });

        it("rejects a changed salt, path, value, proof or document root", async function () {
          const { harness, document } = await loadFixture(deployHarnessFixture);
          const { salt, path, valueJson } = document.fields[1];
          const value = ethers.toUtf8Bytes(valueJson);
          const proof = document.fieldTree.getProof(document.leaves[1]);
          const otherRoot = buildDocument(FIELDS.slice(1)).documentRoot;

          expect(await harness[variant](document.documentRoot, ethers.id("salt-0"), path, value, proof)).to.be.false;
          expect(await harness[variant](document.documentRoot, salt, "/amount/minor", value, proof)).to.be.false;
          expect(
            await harness[variant](
              document.documentRoot,
              salt,
              path,
              ethers.toUtf8Bytes('{"currency":"EUR","minor":125001}'),
              proof,
            ),
          ).to.be.false;
          expect(
            await harness[variant](
              document.documentRoot,
              salt,
              path,
              value,
              document.fieldTree.getProof(document.leaves[0]),
            ),
          ).to.be.false;
          expect(await harness[variant](otherRoot, salt, path, value, proof)).to.be.false;
        });

        it("rejects the field root presented as the document root", async function () {
          const { harness, document } = await loadFixture(deployHarnessFixture);
          const { salt, path, valueJson } = document.fields[0];
          const proof = document.fieldTree.getProof(document.leaves[0]);

          expect(await harness[variant](document.fieldTree.root, salt, path, ethers.toUtf8Bytes(valueJson), proof)).to
            .be.false;
        });
      });
    }
  });

  describe("verifyDocument", function () {
    for (const variant of ["verifyDocument", "verifyDocumentCalldata"]) {
      describe(variant, function () {
        it("accepts every document of a StandardMerkleTree batch and nothing else", async function () {
          const { harness } = await loadFixture(deployHarnessFixture);
          const roots = [0, 1, 2, 3, 4, 5].map(i => buildDocument(FIELDS.slice(i)).documentRoot);
          const tree = StandardMerkleTree.of(
            roots.map(root => [root]),
            ["bytes32"],
          );

          for (const [index, [root]] of tree.entries()) {
            expect(await harness[variant](root, tree.root, tree.getProof(index))).to.be.true;
            expect(await harness[variant](root, tree.root, tree.getProof((index + 1) % tree.length))).to.be.false;
          }
          expect(await harness[variant](ethers.id("outsider"), tree.root, tree.getProof(0))).to.be.false;
        });
      });
    }
  });

  describe("end to end", function () {
    it("proves a field of a document in an anchored batch", async function () {
      const { harness, document } = await loadFixture(deployHarnessFixture);
      const [admin, anchorer] = await ethers.getSigners();
      const registry = await ethers.deployContract("ReceivableRegistry", [admin.address, anchorer.address]);
      const otherDocuments = [2, 3].map(i => buildDocument(FIELDS.slice(i)).documentRoot);
      const batch = StandardMerkleTree.of(
        [document.documentRoot, ...otherDocuments].map(root => [root]),
        ["bytes32"],
      );
      await registry.connect(anchorer).anchorBatch(batch.root, batch.length);

      const { salt, path, valueJson } = document.fields[3];
      const fieldProof = document.fieldTree.getProof(document.leaves[3]);

      expect(await harness.verifyField(document.documentRoot, salt, path, ethers.toUtf8Bytes(valueJson), fieldProof)).to
        .be.true;
      expect(await registry.verifyDocument(document.documentRoot, batch.root, batch.getProof([document.documentRoot])))
        .to.be.true;
    });
  });
});
