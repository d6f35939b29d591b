// Invariant tests: seeded random sequences of splits, purchases, repayments and redemptions over two claims.
//
// After every step:
//   - the units of each claim (balances plus units redeemed and burnt) sum to its face value;
//   - per claim, paid out <= credited <= repaid <= face value;
//   - total paid out (to holders, and dust to obligors) never exceeds total repaid;
//   - the contract's currency balance equals total repaid minus total paid out.
// At the end every claim is repaid in full and redeemed: every claim is closed and the contract holds nothing.
//
// INVARIANT_SEED and INVARIANT_STEPS override the seed and the length of the run.

const { ethers } = require("hardhat");
const { expect } = require("chai");
const { loadFixture } = require("@nomicfoundation/hardhat-network-helpers");

const { ClaimState, deployClaimsFixture, signOffer } = require("./helpers/claims");

const SEED = Number(process.env.INVARIANT_SEED ?? 20261203);
const STEPS = Number(process.env.INVARIANT_STEPS ?? 300);
const FACE_VALUES = [1_000_003n, 777_777n];

/** mulberry32: a small, seedable, well-mixed PRNG. */
function prng(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: maxExclusive => Math.floor(next() * maxExclusive),
    pick: items => items[Math.floor(next() * items.length)],
    /** A bigint in [1, max], biased towards small values so that awkward remainders are common. */
    amount: max => {
      const cap = next() < 0.5 ? (max < 1000n ? max : 1000n) : max;
      return 1n + (BigInt(Math.floor(next() * 2 ** 48)) % cap);
    },
  };
}

async function invariantFixture() {
  const fixture = await deployClaimsFixture();
  const claimIds = [];
  for (const [index, faceValue] of FACE_VALUES.entries()) {
    claimIds.push(await fixture.confirmClaim(index, { faceValue }));
  }
  return { ...fixture, claimIds };
}

describe("ClaimToken invariants", function () {
  this.timeout(120_000);

  it(`hold over ${STEPS} random steps (seed ${SEED})`, async function () {
    const fixture = await loadFixture(invariantFixture);
    const { claimToken, currency, obligor, seller, funder, funder2, supplier, claimIds } = fixture;
    const holders = [seller, funder, funder2, supplier];
    const contract = await claimToken.getAddress();
    const random = prng(SEED);
    const ledger = { repaid: 0n, paidOut: 0n };
    const counts = { transfer: 0, buy: 0, repay: 0, redeem: 0, skipped: 0 };

    const balanceOf = (holder, claimId) => claimToken.balanceOf(holder.address, claimId);

    /** A random holder of units of `claimId` with its balance, or undefined if nobody holds any. */
    async function randomHolder(claimId) {
      const balances = await claimToken.balanceOfBatch(
        holders.map(holder => holder.address),
        holders.map(() => claimId),
      );
      const holding = holders.map((holder, i) => [holder, balances[i]]).filter(([, balance]) => balance > 0n);
      return holding.length === 0 ? undefined : random.pick(holding);
    }

    async function recordPayouts(tx) {
      const receipt = await tx.wait();
      for (const log of receipt.logs) {
        const parsed = claimToken.interface.parseLog(log);
        if (parsed?.name === "Redeemed") {
          ledger.paidOut += parsed.args.amount;
        } else if (parsed?.name === "ClaimClosed") {
          ledger.paidOut += parsed.args.dust;
        }
      }
    }

    async function checkInvariants(step) {
      for (const [index, claimId] of claimIds.entries()) {
        const balances = await claimToken.balanceOfBatch(
          holders.map(holder => holder.address),
          holders.map(() => claimId),
        );
        const [repaid, credited, paidOut, unitsRedeemed] = await claimToken.settlementOf(claimId);
        const units = balances.reduce((sum, balance) => sum + balance, 0n) + unitsRedeemed;
        expect(units, `step ${step}: units of claim ${index}`).to.equal(FACE_VALUES[index]);
        expect(paidOut, `step ${step}: paid out <= credited`).to.be.at.most(credited);
        expect(credited, `step ${step}: credited <= repaid`).to.be.at.most(repaid);
        expect(repaid, `step ${step}: repaid <= face`).to.be.at.most(FACE_VALUES[index]);
      }
      expect(ledger.paidOut, `step ${step}: paid out <= repaid`).to.be.at.most(ledger.repaid);
      expect(await currency.balanceOf(contract), `step ${step}: contract balance`).to.equal(
        ledger.repaid - ledger.paidOut,
      );
    }

    async function transferStep(claimId) {
      const picked = await randomHolder(claimId);
      if (picked === undefined) {
        return false;
      }
      const [from, balance] = picked;
      const to = random.pick(holders.filter(holder => holder !== from));
      await claimToken.connect(from).safeTransferFrom(from.address, to.address, claimId, random.amount(balance), "0x");
      return true;
    }

    async function buyStep(claimId) {
      const picked = await randomHolder(claimId);
      if (picked === undefined) {
        return false;
      }
      const [from, balance] = picked;
      const to = random.pick(holders.filter(holder => holder !== from));
      const [, unitsFilled] = await claimToken.offerStatus(claimId, from.address);
      if (unitsFilled > 0n) {
        // Offers under one nonce share one fill budget: replace the partly filled offer, as a seller would.
        await claimToken.connect(from).cancelOffers(claimId);
      }
      const offer = await fixture.offerFor(from, claimId, {
        units: random.amount(balance),
        price: random.amount(1_000_000n),
      });
      const units = random.amount(offer.units);
      await claimToken.connect(to).buy(offer, await signOffer(from, claimToken, offer), units, ethers.MaxUint256);
      return true;
    }

    async function repayStep(claimId, index) {
      const [repaid] = await claimToken.settlementOf(claimId);
      const outstanding = FACE_VALUES[index] - repaid;
      if (outstanding === 0n) {
        return false;
      }
      const amount = random.amount(outstanding);
      await claimToken.connect(obligor).repay(claimId, amount);
      ledger.repaid += amount;
      return true;
    }

    async function redeemStep(claimId, index) {
      const [repaid] = await claimToken.settlementOf(claimId);
      const eligible = [];
      for (const holder of holders) {
        const burns = repaid === FACE_VALUES[index] && (await balanceOf(holder, claimId)) > 0n;
        if (burns || (await claimToken.redeemable(claimId, holder.address)) > 0n) {
          eligible.push(holder);
        }
      }
      if (eligible.length === 0) {
        return false;
      }
      const holder = random.pick(eligible);
      await recordPayouts(await claimToken.redeem(claimId, holder.address));
      return true;
    }

    const steps = [
      [0.35, "transfer", transferStep],
      [0.15, "buy", buyStep],
      [0.2, "repay", repayStep],
      [0.3, "redeem", redeemStep],
    ];
    for (let step = 0; step < STEPS; step++) {
      const index = random.int(claimIds.length);
      let roll = random.next();
      const [, name, run] = steps.find(([weight]) => (roll -= weight) < 0) ?? steps[steps.length - 1];
      const done = await run(claimIds[index], index);
      counts[done ? name : "skipped"] += 1;
      await checkInvariants(step);
    }

    // Wind down: the obligor repays what is left and everyone redeems; nothing may stay behind.
    for (const [index, claimId] of claimIds.entries()) {
      const [repaid] = await claimToken.settlementOf(claimId);
      if (repaid < FACE_VALUES[index]) {
        await claimToken.connect(obligor).repay(claimId, FACE_VALUES[index] - repaid);
        ledger.repaid += FACE_VALUES[index] - repaid;
      }
      for (const holder of holders) {
        const owed = await claimToken.redeemable(claimId, holder.address);
        if (owed > 0n || (await balanceOf(holder, claimId)) > 0n) {
          await recordPayouts(await claimToken.redeem(claimId, holder.address));
        }
      }
      expect(await claimToken.claimState(claimId)).to.equal(ClaimState.Closed);
    }
    await checkInvariants("end");
    expect(ledger.repaid).to.equal(FACE_VALUES.reduce((sum, face) => sum + face, 0n));
    expect(await currency.balanceOf(contract)).to.equal(0n);
    expect(counts.transfer + counts.buy + counts.repay + counts.redeem).to.be.greaterThan(STEPS / 2);
    console.log(`      steps: ${JSON.stringify(counts)}`);
  });
});
