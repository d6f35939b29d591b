const { ethers } = require("hardhat");
const { expect } = require("chai");
const { loadFixture } = require("@nomicfoundation/hardhat-network-helpers");

const { FACE_VALUE, confirmedClaimFixture } = require("./helpers/claims");

async function twoClaimsFixture() {
  const fixture = await confirmedClaimFixture();
  const secondClaimId = await fixture.confirmClaim(1);
  return { ...fixture, secondClaimId };
}

describe("ClaimToken units (ERC-1155)", function () {
  describe("safeTransferFrom", function () {
    it("splits units to a permitted holder", async function () {
      const { claimToken, claimId, seller, supplier } = await loadFixture(confirmedClaimFixture);

      await expect(claimToken.connect(seller).safeTransferFrom(seller.address, supplier.address, claimId, 200_000n, "0x"))
        .to.emit(claimToken, "TransferSingle")
        .withArgs(seller.address, seller.address, supplier.address, claimId, 200_000n);

      expect(await claimToken.balanceOf(seller.address, claimId)).to.equal(FACE_VALUE - 200_000n);
      expect(await claimToken.balanceOf(supplier.address, claimId)).to.equal(200_000n);
    });

    it("lets any holder split again, down the supply chain", async function () {
      const { claimToken, claimId, seller, supplier, funder } = await loadFixture(confirmedClaimFixture);
      await claimToken.connect(seller).safeTransferFrom(seller.address, supplier.address, claimId, 200_000n, "0x");

      await claimToken.connect(supplier).safeTransferFrom(supplier.address, funder.address, claimId, 50_000n, "0x");

      expect(await claimToken.balanceOf(supplier.address, claimId)).to.equal(150_000n);
      expect(await claimToken.balanceOf(funder.address, claimId)).to.equal(50_000n);
    });

    it("refuses an unpermitted receiver, naming it", async function () {
      const { claimToken, claimId, seller, outsider } = await loadFixture(confirmedClaimFixture);

      await expect(claimToken.connect(seller).safeTransferFrom(seller.address, outsider.address, claimId, 1n, "0x"))
        .to.be.revertedWithCustomError(claimToken, "ClaimTokenHolderNotPermitted")
        .withArgs(outsider.address);
    });

    it("lets a holder that lost its permission send but not receive", async function () {
      const { claimToken, claimId, operator, seller, supplier } = await loadFixture(confirmedClaimFixture);
      await claimToken.connect(operator).setPartyPermitted(seller.address, false);

      await claimToken.connect(seller).safeTransferFrom(seller.address, supplier.address, claimId, 10n, "0x");
      await expect(claimToken.connect(supplier).safeTransferFrom(supplier.address, seller.address, claimId, 10n, "0x"))
        .to.be.revertedWithCustomError(claimToken, "ClaimTokenHolderNotPermitted")
        .withArgs(seller.address);
    });

    it("refuses the zero address as receiver", async function () {
      const { claimToken, claimId, seller } = await loadFixture(confirmedClaimFixture);

      await expect(claimToken.connect(seller).safeTransferFrom(seller.address, ethers.ZeroAddress, claimId, 1n, "0x"))
        .to.be.revertedWithCustomError(claimToken, "ERC1155InvalidReceiver")
        .withArgs(ethers.ZeroAddress);
    });

    it("refuses more units than the holder has", async function () {
      const { claimToken, claimId, seller, supplier } = await loadFixture(confirmedClaimFixture);

      await expect(
        claimToken.connect(seller).safeTransferFrom(seller.address, supplier.address, claimId, FACE_VALUE + 1n, "0x"),
      )
        .to.be.revertedWithCustomError(claimToken, "ERC1155InsufficientBalance")
        .withArgs(seller.address, FACE_VALUE, FACE_VALUE + 1n, claimId);
    });

    it("refuses a value beyond 96 bits", async function () {
      const { claimToken, claimId, seller, supplier } = await loadFixture(confirmedClaimFixture);

      await expect(claimToken.connect(seller).safeTransferFrom(seller.address, supplier.address, claimId, 2n ** 96n, "0x"))
        .to.be.revertedWithCustomError(claimToken, "SafeCastOverflowedUintDowncast")
        .withArgs(96, 2n ** 96n);
    });

    it("refuses a caller that is neither the holder nor approved, and accepts an approved operator", async function () {
      const { claimToken, claimId, seller, supplier, relayer } = await loadFixture(confirmedClaimFixture);

      await expect(claimToken.connect(relayer).safeTransferFrom(seller.address, supplier.address, claimId, 1n, "0x"))
        .to.be.revertedWithCustomError(claimToken, "ERC1155MissingApprovalForAll")
        .withArgs(relayer.address, seller.address);

      await expect(claimToken.connect(seller).setApprovalForAll(relayer.address, true))
        .to.emit(claimToken, "ApprovalForAll")
        .withArgs(seller.address, relayer.address, true);
      expect(await claimToken.isApprovedForAll(seller.address, relayer.address)).to.be.true;
      await expect(
        claimToken.connect(relayer).safeTransferFrom(seller.address, supplier.address, claimId, 1n, "0x"),
      ).to.emit(claimToken, "TransferSingle");
    });

    it("refuses the zero address as operator", async function () {
      const { claimToken, seller } = await loadFixture(confirmedClaimFixture);

      await expect(claimToken.connect(seller).setApprovalForAll(ethers.ZeroAddress, true))
        .to.be.revertedWithCustomError(claimToken, "ERC1155InvalidOperator")
        .withArgs(ethers.ZeroAddress);
    });

    it("is refused while paused", async function () {
      const { claimToken, claimId, operator, seller, supplier } = await loadFixture(confirmedClaimFixture);
      await claimToken.connect(operator).pause();

      await expect(
        claimToken.connect(seller).safeTransferFrom(seller.address, supplier.address, claimId, 1n, "0x"),
      ).to.be.revertedWithCustomError(claimToken, "EnforcedPause");
    });
  });

  describe("contract holders", function () {
    it("delivers to a permitted contract that accepts, and refuses one that does not", async function () {
      const { claimToken, claimId, operator, seller } = await loadFixture(confirmedClaimFixture);
      const accepting = await ethers.deployContract("ClaimReceiverMock", [true]);
      const refusing = await ethers.deployContract("ClaimReceiverMock", [false]);
      for (const receiver of [accepting, refusing]) {
        await claimToken.connect(operator).registerParty(await receiver.getAddress(), ethers.ZeroAddress);
      }

      await claimToken.connect(seller).safeTransferFrom(seller.address, await accepting.getAddress(), claimId, 5n, "0x");
      expect(await claimToken.balanceOf(await accepting.getAddress(), claimId)).to.equal(5n);

      await expect(
        claimToken.connect(seller).safeTransferFrom(seller.address, await refusing.getAddress(), claimId, 5n, "0x"),
      )
        .to.be.revertedWithCustomError(claimToken, "ERC1155InvalidReceiver")
        .withArgs(await refusing.getAddress());
      await expect(
        claimToken
          .connect(seller)
          .safeBatchTransferFrom(seller.address, await refusing.getAddress(), [claimId], [5n], "0x"),
      )
        .to.be.revertedWithCustomError(claimToken, "ERC1155InvalidReceiver")
        .withArgs(await refusing.getAddress());
    });
  });

  describe("safeBatchTransferFrom", function () {
    it("moves units of several claims at once", async function () {
      const { claimToken, claimId, secondClaimId, seller, supplier } = await loadFixture(twoClaimsFixture);

      await expect(
        claimToken
          .connect(seller)
          .safeBatchTransferFrom(seller.address, supplier.address, [claimId, secondClaimId], [10n, 20n], "0x"),
      )
        .to.emit(claimToken, "TransferBatch")
        .withArgs(seller.address, seller.address, supplier.address, [claimId, secondClaimId], [10n, 20n]);

      expect(
        await claimToken.balanceOfBatch(
          [supplier.address, supplier.address, seller.address],
          [claimId, secondClaimId, claimId],
        ),
      ).to.deep.equal([10n, 20n, FACE_VALUE - 10n]);
    });

    it("refuses arrays of different lengths, the zero receiver, an unpermitted receiver and a stranger", async function () {
      const { claimToken, claimId, seller, supplier, outsider, relayer } = await loadFixture(twoClaimsFixture);
      const asSeller = claimToken.connect(seller);

      await expect(asSeller.safeBatchTransferFrom(seller.address, supplier.address, [claimId], [1n, 2n], "0x"))
        .to.be.revertedWithCustomError(claimToken, "ERC1155InvalidArrayLength")
        .withArgs(1n, 2n);
      await expect(asSeller.safeBatchTransferFrom(seller.address, ethers.ZeroAddress, [claimId], [1n], "0x"))
        .to.be.revertedWithCustomError(claimToken, "ERC1155InvalidReceiver")
        .withArgs(ethers.ZeroAddress);
      await expect(asSeller.safeBatchTransferFrom(seller.address, outsider.address, [claimId], [1n], "0x"))
        .to.be.revertedWithCustomError(claimToken, "ClaimTokenHolderNotPermitted")
        .withArgs(outsider.address);
      await expect(
        claimToken.connect(relayer).safeBatchTransferFrom(seller.address, supplier.address, [claimId], [1n], "0x"),
      )
        .to.be.revertedWithCustomError(claimToken, "ERC1155MissingApprovalForAll")
        .withArgs(relayer.address, seller.address);
    });

    it("refuses balanceOfBatch with arrays of different lengths", async function () {
      const { claimToken, claimId, seller } = await loadFixture(confirmedClaimFixture);

      await expect(claimToken.balanceOfBatch([seller.address, seller.address], [claimId]))
        .to.be.revertedWithCustomError(claimToken, "ERC1155InvalidArrayLength")
        .withArgs(1n, 2n);
    });
  });
});

describe("SettlementToken", function () {
  async function tokenFixture() {
    const [admin, other] = await ethers.getSigners();
    const token = await ethers.deployContract("SettlementToken", ["Euro Settlement Token", "EURS", 2, admin.address]);
    return { token, admin, other };
  }

  it("has the name, symbol and decimals it was deployed with", async function () {
    const { token } = await loadFixture(tokenFixture);

    expect(await token.name()).to.equal("Euro Settlement Token");
    expect(await token.symbol()).to.equal("EURS");
    expect(await token.decimals()).to.equal(2n);
  });

  it("mints for the minter role only", async function () {
    const { token, admin, other } = await loadFixture(tokenFixture);

    await expect(token.connect(admin).mint(other.address, 12_345n))
      .to.emit(token, "Transfer")
      .withArgs(ethers.ZeroAddress, other.address, 12_345n);
    expect(await token.balanceOf(other.address)).to.equal(12_345n);

    await expect(token.connect(other).mint(other.address, 1n))
      .to.be.revertedWithCustomError(token, "AccessControlUnauthorizedAccount")
      .withArgs(other.address, await token.MINTER_ROLE());
  });
});
