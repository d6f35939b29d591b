const hre = require("hardhat");
const { ethers } = hre;
const { expect } = require("chai");
const { loadFixture } = require("@nomicfoundation/hardhat-network-helpers");
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");

const { FACE_VALUE, deployClaimsFixture, signConfirmation, signOffer } = require("./helpers/claims");

const GAS_LIMIT_CONFIRM = 120_000n;
const GAS_LIMIT_PURCHASE = 120_000n;

const gasOf = async txPromise => (await (await txPromise).wait()).gasUsed;

describe("ClaimToken gas", function () {
  before(function () {
    if (hre.__SOLIDITY_COVERAGE_RUNNING) {
      this.skip(); // instrumented bytecode costs more gas than the real one
    }
  });

  it(`confirms and mints a claim for at most ${GAS_LIMIT_CONFIRM} gas, with a proof from a batch of 1024`, async function () {
    const { claimToken, registry, operator, relayer, obligorKey, confirmationFor } =
      await loadFixture(deployClaimsFixture);
    const roots = Array.from({ length: 1024 }, (_, i) => ethers.id(`large-batch-${i}`));
    const tree = StandardMerkleTree.of(
      roots.map(root => [root]),
      ["bytes32"],
    );
    await registry.connect(operator).anchorBatch(tree.root, tree.length);

    const rows = [];
    for (const [label, index] of [
      ["first confirmation of the obligor", 0],
      ["later confirmation of the obligor", 1],
    ]) {
      const confirmation = await confirmationFor(0, { documentRoot: roots[index], batchRoot: tree.root });
      const signature = await signConfirmation(obligorKey, claimToken, confirmation);
      const gas = await gasOf(claimToken.connect(relayer).confirm(confirmation, signature, tree.getProof(index)));
      rows.push([`confirm+mint, ${label}, relayed, ${tree.getProof(index).length}-hash proof`, gas]);
    }

    for (const [label, gas] of rows) {
      console.log(`      ${label}: ${gas} gas`);
      expect(gas).to.be.at.most(GAS_LIMIT_CONFIRM);
    }
  });

  it(`executes an offer purchase for at most ${GAS_LIMIT_PURCHASE} gas, and reports transfer, repay and redeem`, async function () {
    const fixture = await loadFixture(deployClaimsFixture);
    const { claimToken, currency, seller, funder, funder2, supplier, obligor, confirmClaim, offerFor } = fixture;
    const claimId = await confirmClaim(0);
    const claimTokenAddress = await claimToken.getAddress();

    // Worst case for the purchase: the seller has never held the currency, the funder has never held the claim and
    // approved exactly the price (so the allowance is written too).
    await currency.connect(seller).transfer(supplier.address, await currency.balanceOf(seller.address));
    const rows = [];

    const offer = await offerFor(seller, claimId, { units: 600_000n, price: 570_000n });
    await currency.connect(funder).approve(claimTokenAddress, offer.price);
    const signature = await signOffer(seller, claimToken, offer);
    const purchase = await gasOf(claimToken.connect(funder).buy(offer, signature, offer.units, offer.price));
    rows.push(["offer purchase, whole offer, seller's first currency receipt, exact approval", purchase, true]);

    const second = await offerFor(seller, claimId, { units: 200_000n, price: 190_000n });
    const secondSignature = await signOffer(seller, claimToken, second);
    const partial = await gasOf(claimToken.connect(funder2).buy(second, secondSignature, 100_000n, 95_000n));
    rows.push(["offer purchase, partial fill, unlimited approval", partial, true]);

    const transfer = await gasOf(
      claimToken.connect(seller).safeTransferFrom(seller.address, supplier.address, claimId, 100_000n, "0x"),
    );
    rows.push(["transfer to a new holder, nothing repaid", transfer, false]);

    const repay = await gasOf(claimToken.connect(obligor).repay(claimId, FACE_VALUE / 2n));
    rows.push(["repay, first (partial) repayment", repay, false]);

    const transferAfter = await gasOf(
      claimToken.connect(funder).safeTransferFrom(funder.address, supplier.address, claimId, 100_000n, "0x"),
    );
    rows.push(["transfer after a partial repayment (both positions settled)", transferAfter, false]);

    const redeemPartial = await gasOf(claimToken.connect(funder).redeem(claimId, funder.address));
    rows.push(["redeem after a partial repayment", redeemPartial, false]);

    const repayRest = await gasOf(claimToken.connect(obligor).repay(claimId, FACE_VALUE / 2n));
    rows.push(["repay, final repayment", repayRest, false]);

    const redeemFull = await gasOf(claimToken.connect(funder).redeem(claimId, funder.address));
    rows.push(["redeem after full repayment (units burnt)", redeemFull, false]);

    for (const holder of [funder2, seller]) {
      await claimToken.redeem(claimId, holder.address);
    }
    const redeemLast = await gasOf(claimToken.connect(supplier).redeem(claimId, supplier.address));
    rows.push(["redeem of the last units (claim closed, dust to the obligor)", redeemLast, false]);

    for (const [label, gas, limited] of rows) {
      console.log(`      ${label}: ${gas} gas`);
      if (limited) {
        expect(gas).to.be.at.most(GAS_LIMIT_PURCHASE);
      }
    }
  });
});
