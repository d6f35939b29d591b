const hre = require("hardhat");
const { ethers } = hre;
const { expect } = require("chai");
const { loadFixture } = require("@nomicfoundation/hardhat-network-helpers");
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");

const DOCUMENT_COUNT = 5;
const GAS_LIMIT_PER_ANCHOR = 60_000n;
const MAX_UINT32 = 2n ** 32n - 1n;

const documentRoots = (label, count) => Array.from({ length: count }, (_, i) => ethers.id(`${label}-${i}`));

const batchTree = roots =>
  StandardMerkleTree.of(
    roots.map(root => [root]),
    ["bytes32"],
  );

function interfaceId(contractInterface) {
  let id = 0n;
  contractInterface.forEachFunction(fn => {
    id ^= BigInt(fn.selector);
  });
  return ethers.toBeHex(id, 4);
}

async function deployRegistryFixture() {
  const [admin, anchorer, other] = await ethers.getSigners();
  const registry = await ethers.deployContract("ReceivableRegistry", [admin.address, anchorer.address]);

  const ANCHORER_ROLE = await registry.ANCHORER_ROLE();
  const NULLIFIER_PUBLISHER_ROLE = await registry.NULLIFIER_PUBLISHER_ROLE();
  const DEFAULT_ADMIN_ROLE = await registry.DEFAULT_ADMIN_ROLE();

  const roots = documentRoots("document", DOCUMENT_COUNT);
  const tree = batchTree(roots);

  return { registry, admin, anchorer, other, roots, tree, ANCHORER_ROLE, NULLIFIER_PUBLISHER_ROLE, DEFAULT_ADMIN_ROLE };
}

async function anchoredRegistryFixture() {
  const fixture = await deployRegistryFixture();
  const { registry, anchorer, tree } = fixture;

  const tx = await registry.connect(anchorer).anchorBatch(tree.root, tree.length);
  const receipt = await tx.wait();

  return { ...fixture, anchorReceipt: receipt };
}

describe("ReceivableRegistry", function () {
  describe("deployment", function () {
    it("grants the admin role to the admin", async function () {
      const { registry, admin, anchorer, DEFAULT_ADMIN_ROLE } = await loadFixture(deployRegistryFixture);

      expect(await registry.hasRole(DEFAULT_ADMIN_ROLE, admin)).to.be.true;
      expect(await registry.hasRole(DEFAULT_ADMIN_ROLE, anchorer)).to.be.false;
    });

    it("grants the anchorer and nullifier publisher roles to the anchorer only", async function () {
      const { registry, admin, anchorer, ANCHORER_ROLE, NULLIFIER_PUBLISHER_ROLE } =
        await loadFixture(deployRegistryFixture);

      expect(await registry.hasRole(ANCHORER_ROLE, anchorer)).to.be.true;
      expect(await registry.hasRole(NULLIFIER_PUBLISHER_ROLE, anchorer)).to.be.true;
      expect(await registry.hasRole(ANCHORER_ROLE, admin)).to.be.false;
      expect(await registry.hasRole(NULLIFIER_PUBLISHER_ROLE, admin)).to.be.false;
    });

    it("uses the role ids of their names", async function () {
      const { ANCHORER_ROLE, NULLIFIER_PUBLISHER_ROLE, DEFAULT_ADMIN_ROLE } = await loadFixture(deployRegistryFixture);

      expect(ANCHORER_ROLE).to.equal(ethers.id("ANCHORER_ROLE"));
      expect(NULLIFIER_PUBLISHER_ROLE).to.equal(ethers.id("NULLIFIER_PUBLISHER_ROLE"));
      expect(DEFAULT_ADMIN_ROLE).to.equal(ethers.ZeroHash);
    });

    it("grants no operational role when the anchorer is the zero address", async function () {
      const [admin] = await ethers.getSigners();
      const registry = await ethers.deployContract("ReceivableRegistry", [admin.address, ethers.ZeroAddress]);

      expect(await registry.hasRole(await registry.DEFAULT_ADMIN_ROLE(), admin)).to.be.true;
      expect(await registry.hasRole(await registry.ANCHORER_ROLE(), ethers.ZeroAddress)).to.be.false;
      expect(await registry.hasRole(await registry.NULLIFIER_PUBLISHER_ROLE(), ethers.ZeroAddress)).to.be.false;
    });

    it("starts with no batches", async function () {
      const { registry } = await loadFixture(deployRegistryFixture);

      expect(await registry.batchCount()).to.equal(0n);
    });

    it("supports the registry, AccessControl and ERC-165 interfaces", async function () {
      const { registry } = await loadFixture(deployRegistryFixture);
      const abiOf = async name => new ethers.Interface((await hre.artifacts.readArtifact(name)).abi);

      expect(await registry.supportsInterface(interfaceId(await abiOf("IReceivableRegistry")))).to.be.true;
      expect(await registry.supportsInterface(interfaceId(await abiOf("IAccessControl")))).to.be.true;
      expect(await registry.supportsInterface("0x01ffc9a7")).to.be.true;
      expect(await registry.supportsInterface("0xffffffff")).to.be.false;
    });
  });

  describe("anchorBatch", function () {
    it("anchors a batch root and emits BatchAnchored", async function () {
      const { registry, anchorer, tree } = await loadFixture(deployRegistryFixture);

      await expect(registry.connect(anchorer).anchorBatch(tree.root, tree.length))
        .to.emit(registry, "BatchAnchored")
        .withArgs(1n, tree.root, tree.length, anchorer.address);
    });

    it("returns consecutive batch ids starting at 1", async function () {
      const { registry, anchorer } = await loadFixture(deployRegistryFixture);
      const [first, second, third] = documentRoots("batch", 3);

      expect(await registry.connect(anchorer).anchorBatch.staticCall(first, 1)).to.equal(1n);
      await registry.connect(anchorer).anchorBatch(first, 1);
      expect(await registry.connect(anchorer).anchorBatch.staticCall(second, 1)).to.equal(2n);
      await registry.connect(anchorer).anchorBatch(second, 1);
      await expect(registry.connect(anchorer).anchorBatch(third, 1))
        .to.emit(registry, "BatchAnchored")
        .withArgs(3n, third, 1n, anchorer.address);

      expect(await registry.batchCount()).to.equal(3n);
      expect((await registry.anchorOf(first)).batchId).to.equal(1n);
      expect((await registry.anchorOf(second)).batchId).to.equal(2n);
      expect((await registry.anchorOf(third)).batchId).to.equal(3n);
    });

    it("records the batch id, block number, block timestamp and document count", async function () {
      const { registry, tree, anchorReceipt } = await loadFixture(anchoredRegistryFixture);
      const block = await ethers.provider.getBlock(anchorReceipt.blockNumber);

      const [batchId, blockNumber, anchoredAt, documentCount] = await registry.anchorOf(tree.root);

      expect(batchId).to.equal(1n);
      expect(blockNumber).to.equal(BigInt(anchorReceipt.blockNumber));
      expect(anchoredAt).to.equal(BigInt(block.timestamp));
      expect(documentCount).to.equal(BigInt(DOCUMENT_COUNT));
    });

    it("records the largest document count", async function () {
      const { registry, anchorer } = await loadFixture(deployRegistryFixture);
      const [root] = documentRoots("large", 1);

      await registry.connect(anchorer).anchorBatch(root, MAX_UINT32);

      expect((await registry.anchorOf(root)).documentCount).to.equal(MAX_UINT32);
    });

    it("reports zeros for a root that was never anchored", async function () {
      const { registry } = await loadFixture(anchoredRegistryFixture);
      const [unknown] = documentRoots("unknown", 1);

      expect(await registry.anchorOf(unknown)).to.deep.equal([0n, 0n, 0n, 0n]);
    });

    it("refuses a root that is already anchored, naming its batch id", async function () {
      const { registry, anchorer, tree } = await loadFixture(anchoredRegistryFixture);
      const [later] = documentRoots("later", 1);
      await registry.connect(anchorer).anchorBatch(later, 1);

      await expect(registry.connect(anchorer).anchorBatch(tree.root, tree.length))
        .to.be.revertedWithCustomError(registry, "ReceivableRegistryRootAlreadyAnchored")
        .withArgs(tree.root, 1n);
      await expect(registry.connect(anchorer).anchorBatch(later, 7))
        .to.be.revertedWithCustomError(registry, "ReceivableRegistryRootAlreadyAnchored")
        .withArgs(later, 2n);
      expect(await registry.batchCount()).to.equal(2n);
    });

    it("refuses the zero root", async function () {
      const { registry, anchorer } = await loadFixture(deployRegistryFixture);

      await expect(registry.connect(anchorer).anchorBatch(ethers.ZeroHash, 1))
        .to.be.revertedWithCustomError(registry, "ReceivableRegistryZeroRoot")
        .withArgs();
    });

    it("refuses an empty batch", async function () {
      const { registry, anchorer, tree } = await loadFixture(deployRegistryFixture);

      await expect(registry.connect(anchorer).anchorBatch(tree.root, 0))
        .to.be.revertedWithCustomError(registry, "ReceivableRegistryEmptyBatch")
        .withArgs(tree.root);
      expect(await registry.batchCount()).to.equal(0n);
    });

    it("refuses a caller without the anchorer role", async function () {
      const { registry, admin, other, tree, ANCHORER_ROLE } = await loadFixture(deployRegistryFixture);

      for (const caller of [admin, other]) {
        await expect(registry.connect(caller).anchorBatch(tree.root, tree.length))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ANCHORER_ROLE);
      }
    });

    it("refuses a nullifier publisher that is not an anchorer", async function () {
      const { registry, admin, other, tree, ANCHORER_ROLE, NULLIFIER_PUBLISHER_ROLE } =
        await loadFixture(deployRegistryFixture);
      await registry.connect(admin).grantRole(NULLIFIER_PUBLISHER_ROLE, other);

      await expect(registry.connect(other).anchorBatch(tree.root, tree.length))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(other.address, ANCHORER_ROLE);
    });

    it("follows grants and revocations of the anchorer role", async function () {
      const { registry, admin, anchorer, other, tree, ANCHORER_ROLE } = await loadFixture(deployRegistryFixture);
      const [second] = documentRoots("second", 1);

      await registry.connect(admin).grantRole(ANCHORER_ROLE, other);
      await expect(registry.connect(other).anchorBatch(tree.root, tree.length))
        .to.emit(registry, "BatchAnchored")
        .withArgs(1n, tree.root, tree.length, other.address);

      await registry.connect(admin).revokeRole(ANCHORER_ROLE, anchorer);
      await expect(registry.connect(anchorer).anchorBatch(second, 1))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(anchorer.address, ANCHORER_ROLE);
    });

    it(`costs at most ${GAS_LIMIT_PER_ANCHOR} gas per batch, whatever its size`, async function () {
      if (hre.__SOLIDITY_COVERAGE_RUNNING) {
        this.skip(); // instrumented bytecode costs more gas than the real one
      }
      const { registry, anchorer } = await loadFixture(deployRegistryFixture);

      const gasUsed = [];
      for (const [label, size] of [
        ["first", 1024],
        ["second", 1024],
        ["third", 1],
      ]) {
        const tx = await registry.connect(anchorer).anchorBatch(ethers.id(`gas-${label}`), size);
        const receipt = await tx.wait();
        gasUsed.push([label, size, receipt.gasUsed]);
      }

      for (const [label, size, gas] of gasUsed) {
        console.log(
          `      anchorBatch (${label} batch, ${size} documents): ${gas} gas, ${gas / BigInt(size)} gas/document`,
        );
        expect(gas).to.be.at.most(GAS_LIMIT_PER_ANCHOR);
      }
    });
  });

  describe("verifyDocument", function () {
    it("accepts every document of an anchored batch", async function () {
      const { registry, tree } = await loadFixture(anchoredRegistryFixture);

      for (const [index, [root]] of tree.entries()) {
        expect(await registry.verifyDocument(root, tree.root, tree.getProof(index))).to.be.true;
      }
    });

    it("accepts the only document of a single-document batch with an empty proof", async function () {
      const { registry, anchorer } = await loadFixture(deployRegistryFixture);
      const single = batchTree(documentRoots("single", 1));
      await registry.connect(anchorer).anchorBatch(single.root, 1);

      expect(single.getProof(0)).to.deep.equal([]);
      expect(await registry.verifyDocument(single.at(0)[0], single.root, [])).to.be.true;
    });

    it("rejects a valid proof against a batch root that was never anchored", async function () {
      const { registry, roots } = await loadFixture(deployRegistryFixture);
      const unanchored = batchTree(roots);

      expect(unanchored.verify(0, unanchored.getProof(0))).to.be.true;
      expect(await registry.verifyDocument(unanchored.at(0)[0], unanchored.root, unanchored.getProof(0))).to.be.false;
    });

    it("rejects the proof of another document", async function () {
      const { registry, tree } = await loadFixture(anchoredRegistryFixture);

      expect(await registry.verifyDocument(tree.at(0)[0], tree.root, tree.getProof(1))).to.be.false;
    });

    it("rejects a document outside the batch", async function () {
      const { registry, tree } = await loadFixture(anchoredRegistryFixture);
      const [outsider] = documentRoots("outsider", 1);

      for (const [index] of tree.entries()) {
        expect(await registry.verifyDocument(outsider, tree.root, tree.getProof(index))).to.be.false;
      }
    });

    it("rejects a proof with its siblings swapped", async function () {
      const { registry, tree } = await loadFixture(anchoredRegistryFixture);
      const index = [...tree.entries()].findIndex(([i]) => tree.getProof(i).length >= 2);
      const proof = tree.getProof(index);
      const swapped = [proof[1], proof[0], ...proof.slice(2)];

      expect(await registry.verifyDocument(tree.at(index)[0], tree.root, swapped)).to.be.false;
    });

    it("rejects a truncated or extended proof", async function () {
      const { registry, tree } = await loadFixture(anchoredRegistryFixture);
      const proof = tree.getProof(0);

      expect(await registry.verifyDocument(tree.at(0)[0], tree.root, proof.slice(0, -1))).to.be.false;
      expect(await registry.verifyDocument(tree.at(0)[0], tree.root, [...proof, ethers.ZeroHash])).to.be.false;
    });

    it("rejects an inner node of the batch tree presented as a document root", async function () {
      const { registry, tree } = await loadFixture(anchoredRegistryFixture);
      // In the dumped array layout node i has children 2i+1 and 2i+2; nodes 1 and 2 are the root's children.
      const nodes = tree.dump().tree;
      const [innerNode, sibling] = [nodes[1], nodes[2]];
      expect(ethers.keccak256(ethers.concat([innerNode, sibling].sort()))).to.equal(tree.root);

      expect(await registry.verifyDocument(innerNode, tree.root, [sibling])).to.be.false;
    });

    it("rejects a batch leaf presented as a document root", async function () {
      const { registry, tree } = await loadFixture(anchoredRegistryFixture);
      const leaf = tree.leafHash(tree.at(0));

      expect(await registry.verifyDocument(leaf, tree.root, tree.getProof(0))).to.be.false;
    });
  });

  describe("nullifiers", function () {
    const nullifier = ethers.id("nullifier-1");

    it("publishes a nullifier and emits NullifierPublished", async function () {
      const { registry, anchorer } = await loadFixture(deployRegistryFixture);

      const tx = registry.connect(anchorer).publishNullifier(nullifier);

      await expect(tx).to.emit(registry, "NullifierPublished").withArgs(nullifier, anchorer.address);
      const receipt = await (await tx).wait();
      expect(await registry.nullifierPublishedAt(nullifier)).to.equal(BigInt(receipt.blockNumber));
    });

    it("reports zero for a nullifier never published", async function () {
      const { registry, anchorer } = await loadFixture(deployRegistryFixture);
      await registry.connect(anchorer).publishNullifier(nullifier);

      expect(await registry.nullifierPublishedAt(ethers.id("nullifier-2"))).to.equal(0n);
    });

    it("refuses a second publication, naming the block of the first", async function () {
      const { registry, anchorer } = await loadFixture(deployRegistryFixture);
      const receipt = await (await registry.connect(anchorer).publishNullifier(nullifier)).wait();

      await expect(registry.connect(anchorer).publishNullifier(nullifier))
        .to.be.revertedWithCustomError(registry, "ReceivableRegistryNullifierAlreadyPublished")
        .withArgs(nullifier, BigInt(receipt.blockNumber));
    });

    it("refuses the zero nullifier", async function () {
      const { registry, anchorer } = await loadFixture(deployRegistryFixture);

      await expect(registry.connect(anchorer).publishNullifier(ethers.ZeroHash))
        .to.be.revertedWithCustomError(registry, "ReceivableRegistryZeroNullifier")
        .withArgs();
    });

    it("refuses a caller without the nullifier publisher role", async function () {
      const { registry, admin, other, ANCHORER_ROLE, NULLIFIER_PUBLISHER_ROLE } =
        await loadFixture(deployRegistryFixture);
      await registry.connect(admin).grantRole(ANCHORER_ROLE, other);

      for (const caller of [admin, other]) {
        await expect(registry.connect(caller).publishNullifier(nullifier))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, NULLIFIER_PUBLISHER_ROLE);
      }
    });

    it("lets a publisher that is not an anchorer publish", async function () {
      const { registry, admin, other, NULLIFIER_PUBLISHER_ROLE } = await loadFixture(deployRegistryFixture);
      await registry.connect(admin).grantRole(NULLIFIER_PUBLISHER_ROLE, other);

      await expect(registry.connect(other).publishNullifier(nullifier))
        .to.emit(registry, "NullifierPublished")
        .withArgs(nullifier, other.address);
    });
  });
});
