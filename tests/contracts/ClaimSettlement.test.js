const { ethers } = require("hardhat");
const { expect } = require("chai");
const { loadFixture, time } = require("@nomicfoundation/hardhat-network-helpers");

const {
  ClaimState,
  DEFAULT_PERIOD,
  FACE_VALUE,
  GRACE_PERIOD,
  confirmedClaimFixture,
  deployClaimsFixture,
} = require("./helpers/claims");

/** Seller keeps 400,000 units, funder holds 600,000. */
async function splitClaimFixture() {
  const fixture = await confirmedClaimFixture();
  const { claimToken, seller, funder, claimId } = fixture;
  await claimToken.connect(seller).safeTransferFrom(seller.address, funder.address, claimId, 600_000n, "0x");
  return fixture;
}

/** A claim with an awkward face value, split three ways. */
async function awkwardClaimFixture() {
  const fixture = await deployClaimsFixture();
  const { claimToken, seller, funder, supplier, confirmClaim } = fixture;
  const faceValue = 1_000_003n;
  const claimId = await confirmClaim(0, { faceValue });
  await claimToken.connect(seller).safeTransferFrom(seller.address, funder.address, claimId, 333_334n, "0x");
  await claimToken.connect(seller).safeTransferFrom(seller.address, supplier.address, claimId, 333_334n, "0x");
  return { ...fixture, claimId, faceValue, holders: [seller, funder, supplier] };
}

describe("ClaimToken settlement", function () {
  describe("repay", function () {
    it("takes the repayment into the contract", async function () {
      const { claimToken, currency, obligor, claimId } = await loadFixture(confirmedClaimFixture);

      const repayment = claimToken.connect(obligor).repay(claimId, 250_000n);

      await expect(repayment).to.emit(claimToken, "Repaid").withArgs(claimId, obligor.address, 250_000n, 250_000n);
      await expect(repayment).to.changeTokenBalances(currency, [obligor, claimToken], [-250_000n, 250_000n]);
      expect((await claimToken.settlementOf(claimId)).repaid).to.equal(250_000n);
    });

    it("accepts repayments in parts, from any payer, up to the face value", async function () {
      const { claimToken, obligor, supplier, claimId } = await loadFixture(confirmedClaimFixture);
      await claimToken.connect(obligor).repay(claimId, 600_000n);

      await expect(claimToken.connect(supplier).repay(claimId, 400_000n))
        .to.emit(claimToken, "Repaid")
        .withArgs(claimId, supplier.address, 400_000n, FACE_VALUE);
      expect(await claimToken.claimState(claimId)).to.equal(ClaimState.Paid);
    });

    it("refuses more than the outstanding amount, zero, and an unknown claim", async function () {
      const { claimToken, obligor, claimId } = await loadFixture(confirmedClaimFixture);
      await claimToken.connect(obligor).repay(claimId, 600_000n);
      const unknown = BigInt(ethers.id("unknown"));

      await expect(claimToken.connect(obligor).repay(claimId, 400_001n))
        .to.be.revertedWithCustomError(claimToken, "ClaimTokenRepaymentExceedsOutstanding")
        .withArgs(claimId, 400_001n, 400_000n);
      await expect(claimToken.connect(obligor).repay(claimId, 0n))
        .to.be.revertedWithCustomError(claimToken, "ClaimTokenZeroRepayment")
        .withArgs(claimId);
      await expect(claimToken.connect(obligor).repay(unknown, 1n))
        .to.be.revertedWithCustomError(claimToken, "ClaimTokenUnknownClaim")
        .withArgs(unknown);
    });

    it("stays open while paused, so the obligor can always pay on time", async function () {
      const { claimToken, operator, obligor, claimId } = await loadFixture(confirmedClaimFixture);
      await claimToken.connect(operator).pause();

      await expect(claimToken.connect(obligor).repay(claimId, 1n)).to.emit(claimToken, "Repaid");
    });
  });

  describe("redeem", function () {
    it("pays holders pro rata to their units", async function () {
      const { claimToken, currency, obligor, seller, funder, claimId } = await loadFixture(splitClaimFixture);
      await claimToken.connect(obligor).repay(claimId, 500_000n);

      expect(await claimToken.redeemable(claimId, seller.address)).to.equal(200_000n);
      expect(await claimToken.redeemable(claimId, funder.address)).to.equal(300_000n);
      await expect(claimToken.connect(funder).redeem(claimId, funder.address))
        .to.emit(claimToken, "Redeemed")
        .withArgs(claimId, funder.address, 300_000n, 0n);
      await expect(claimToken.connect(seller).redeem(claimId, seller.address)).to.changeTokenBalances(
        currency,
        [seller, claimToken],
        [200_000n, -200_000n],
      );
      expect(await claimToken.settlementOf(claimId)).to.deep.equal([500_000n, 500_000n, 500_000n, 0n]);
    });

    it("pays the holder whoever calls it", async function () {
      const { claimToken, currency, obligor, relayer, funder, claimId } = await loadFixture(splitClaimFixture);
      await claimToken.connect(obligor).repay(claimId, 500_000n);

      await expect(claimToken.connect(relayer).redeem(claimId, funder.address)).to.changeTokenBalances(
        currency,
        [funder, relayer],
        [300_000n, 0n],
      );
    });

    it("refuses a holder with nothing to redeem, and an unknown claim", async function () {
      const { claimToken, obligor, funder, outsider, claimId } = await loadFixture(splitClaimFixture);
      const unknown = BigInt(ethers.id("unknown"));

      await expect(claimToken.redeem(claimId, funder.address))
        .to.be.revertedWithCustomError(claimToken, "ClaimTokenNothingToRedeem")
        .withArgs(claimId, funder.address);
      await claimToken.connect(obligor).repay(claimId, 500_000n);
      await claimToken.redeem(claimId, funder.address);
      await expect(claimToken.redeem(claimId, funder.address))
        .to.be.revertedWithCustomError(claimToken, "ClaimTokenNothingToRedeem")
        .withArgs(claimId, funder.address);
      await expect(claimToken.redeem(claimId, outsider.address))
        .to.be.revertedWithCustomError(claimToken, "ClaimTokenNothingToRedeem")
        .withArgs(claimId, outsider.address);
      await expect(claimToken.redeem(unknown, funder.address))
        .to.be.revertedWithCustomError(claimToken, "ClaimTokenUnknownClaim")
        .withArgs(unknown);
    });

    it("burns the units once repaid in full, and closes the claim with the last ones", async function () {
      const { claimToken, currency, obligor, seller, funder, claimId } = await loadFixture(splitClaimFixture);
      await claimToken.connect(obligor).repay(claimId, FACE_VALUE);

      await expect(claimToken.redeem(claimId, funder.address))
        .to.emit(claimToken, "TransferSingle")
        .withArgs(anyCaller(), funder.address, ethers.ZeroAddress, claimId, 600_000n)
        .and.to.emit(claimToken, "Redeemed")
        .withArgs(claimId, funder.address, 600_000n, 600_000n);
      expect(await claimToken.claimState(claimId)).to.equal(ClaimState.Paid);

      await expect(claimToken.redeem(claimId, seller.address))
        .to.emit(claimToken, "ClaimClosed")
        .withArgs(claimId, obligor.address, 0n);
      expect(await claimToken.claimState(claimId)).to.equal(ClaimState.Closed);
      expect(await claimToken.balanceOf(seller.address, claimId)).to.equal(0n);
      expect(await currency.balanceOf(await claimToken.getAddress())).to.equal(0n);
      expect(await claimToken.settlementOf(claimId)).to.deep.equal([FACE_VALUE, FACE_VALUE, FACE_VALUE, FACE_VALUE]);
    });

    it("is refused while paused", async function () {
      const { claimToken, operator, obligor, funder, claimId } = await loadFixture(splitClaimFixture);
      await claimToken.connect(obligor).repay(claimId, 500_000n);
      await claimToken.connect(operator).pause();

      await expect(claimToken.redeem(claimId, funder.address)).to.be.revertedWithCustomError(
        claimToken,
        "EnforcedPause",
      );
    });
  });

  describe("transfers between repayments", function () {
    it("settles both holders before units move, so money follows the units held when it came in", async function () {
      const { claimToken, currency, obligor, seller, supplier, claimId } = await loadFixture(confirmedClaimFixture);
      await claimToken.connect(obligor).repay(claimId, 500_000n); // all of it accrues to the seller

      await claimToken.connect(seller).safeTransferFrom(seller.address, supplier.address, claimId, 500_000n, "0x");
      expect(await claimToken.redeemable(claimId, seller.address)).to.equal(500_000n);
      expect(await claimToken.redeemable(claimId, supplier.address)).to.equal(0n);

      await claimToken.connect(obligor).repay(claimId, 500_000n); // half to each
      await expect(claimToken.redeem(claimId, seller.address)).to.changeTokenBalance(currency, seller, 750_000n);
      await expect(claimToken.redeem(claimId, supplier.address)).to.changeTokenBalance(currency, supplier, 250_000n);
      expect(await claimToken.claimState(claimId)).to.equal(ClaimState.Closed);
    });

    it("keeps a former holder's credit payable after the claim is closed", async function () {
      const { claimToken, currency, obligor, seller, funder, claimId } = await loadFixture(splitClaimFixture);
      await claimToken.connect(obligor).repay(claimId, 500_000n);
      await claimToken.connect(funder).safeTransferFrom(funder.address, seller.address, claimId, 600_000n, "0x");
      await claimToken.connect(obligor).repay(claimId, 500_000n);

      await claimToken.redeem(claimId, seller.address); // burns every unit: closed
      expect(await claimToken.claimState(claimId)).to.equal(ClaimState.Closed);

      await expect(claimToken.redeem(claimId, funder.address)).to.changeTokenBalance(currency, funder, 300_000n);
      expect(await currency.balanceOf(await claimToken.getAddress())).to.equal(0n);
    });

    it("gives units received after full repayment their burn and nothing else", async function () {
      const { claimToken, obligor, funder, supplier, claimId } = await loadFixture(splitClaimFixture);
      await claimToken.connect(obligor).repay(claimId, FACE_VALUE);
      await claimToken.connect(funder).safeTransferFrom(funder.address, supplier.address, claimId, 100_000n, "0x");

      await expect(claimToken.redeem(claimId, supplier.address))
        .to.emit(claimToken, "Redeemed")
        .withArgs(claimId, supplier.address, 0n, 100_000n);
      await expect(claimToken.redeem(claimId, funder.address))
        .to.emit(claimToken, "Redeemed")
        .withArgs(claimId, funder.address, 600_000n, 500_000n);
    });
  });

  describe("rounding", function () {
    it("never pays out more than was repaid, and the remainder goes to the obligor at closing", async function () {
      const { claimToken, currency, obligor, claimId, faceValue, holders } = await loadFixture(awkwardClaimFixture);
      const contract = await claimToken.getAddress();
      let repaid = 0n;
      let paidToHolders = 0n;

      for (const amount of [1n, 2n, 333_333n, 7n, 99_999n, 1n]) {
        await claimToken.connect(obligor).repay(claimId, amount);
        repaid += amount;
        for (const holder of holders) {
          if ((await claimToken.redeemable(claimId, holder.address)) > 0n) {
            const before = await currency.balanceOf(holder.address);
            await claimToken.redeem(claimId, holder.address);
            paidToHolders += (await currency.balanceOf(holder.address)) - before;
          }
        }
        expect(paidToHolders).to.be.at.most(repaid);
        expect(await currency.balanceOf(contract)).to.equal(repaid - paidToHolders);
      }
      // Nobody was owed a whole unit of the first repayment of 1: it is dust until closing.
      expect(paidToHolders).to.be.lessThan(repaid);

      await claimToken.connect(obligor).repay(claimId, faceValue - repaid);
      const obligorBefore = await currency.balanceOf(obligor.address);
      for (const holder of holders) {
        const before = await currency.balanceOf(holder.address);
        await claimToken.redeem(claimId, holder.address);
        paidToHolders += (await currency.balanceOf(holder.address)) - before;
      }
      const dust = (await currency.balanceOf(obligor.address)) - obligorBefore;

      expect(paidToHolders + dust).to.equal(faceValue);
      expect(dust).to.be.greaterThan(0n);
      expect(await currency.balanceOf(contract)).to.equal(0n);
      expect(await claimToken.claimState(claimId)).to.equal(ClaimState.Closed);
    });

    it("credits 1 of 3 repaid units to nobody until the claim closes", async function () {
      const { claimToken, currency, obligor, seller, funder, supplier, confirmClaim } =
        await loadFixture(deployClaimsFixture);
      const claimId = await confirmClaim(2, { faceValue: 3n });
      await claimToken.connect(seller).safeTransferFrom(seller.address, funder.address, claimId, 1n, "0x");
      await claimToken.connect(seller).safeTransferFrom(seller.address, supplier.address, claimId, 1n, "0x");
      await claimToken.connect(obligor).repay(claimId, 1n);

      for (const holder of [seller, funder, supplier]) {
        expect(await claimToken.redeemable(claimId, holder.address)).to.equal(0n);
      }
      // The funder's third moves to the seller: the 1/3 of a cent it earned is lost to rounding, not paid twice.
      await claimToken.connect(funder).safeTransferFrom(funder.address, seller.address, claimId, 1n, "0x");
      await claimToken.connect(obligor).repay(claimId, 2n);

      // seller: 2 units * 2/3 = 1.33 -> 1; supplier: 1 unit * 3/3 = 1; funder: 0; the last cent is dust.
      await expect(claimToken.redeem(claimId, seller.address)).to.changeTokenBalance(currency, seller, 1n);
      await expect(claimToken.redeem(claimId, funder.address))
        .to.be.revertedWithCustomError(claimToken, "ClaimTokenNothingToRedeem")
        .withArgs(claimId, funder.address);
      const closing = claimToken.redeem(claimId, supplier.address);
      await expect(closing).to.emit(claimToken, "ClaimClosed").withArgs(claimId, obligor.address, 1n);
      await expect(closing).to.changeTokenBalances(currency, [supplier, obligor, claimToken], [1n, 1n, -2n]);
    });
  });

  describe("claimState", function () {
    it("runs active, due, overdue, defaulted with time, and paid when repaid in full", async function () {
      const { claimToken, obligor, claimId, dueDate } = await loadFixture(confirmedClaimFixture);

      expect(await claimToken.claimState(claimId)).to.equal(ClaimState.Active);
      await time.increaseTo(dueDate - 1n);
      expect(await claimToken.claimState(claimId)).to.equal(ClaimState.Active);
      await time.increaseTo(dueDate);
      expect(await claimToken.claimState(claimId)).to.equal(ClaimState.Due);
      await time.increaseTo(dueDate + GRACE_PERIOD - 1n);
      expect(await claimToken.claimState(claimId)).to.equal(ClaimState.Due);
      await time.increaseTo(dueDate + GRACE_PERIOD);
      expect(await claimToken.claimState(claimId)).to.equal(ClaimState.Overdue);
      await time.increaseTo(dueDate + DEFAULT_PERIOD);
      expect(await claimToken.claimState(claimId)).to.equal(ClaimState.Defaulted);

      await claimToken.connect(obligor).repay(claimId, FACE_VALUE - 1n);
      expect(await claimToken.claimState(claimId)).to.equal(ClaimState.Defaulted);
      await claimToken.connect(obligor).repay(claimId, 1n);
      expect(await claimToken.claimState(claimId)).to.equal(ClaimState.Paid);
    });
  });
});

function anyCaller() {
  return require("@nomicfoundation/hardhat-chai-matchers/withArgs").anyValue;
}
