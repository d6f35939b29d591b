const { ethers, network } = require("hardhat");
const { expect } = require("chai");
const { loadFixture, time } = require("@nomicfoundation/hardhat-network-helpers");

const { FACE_VALUE, confirmedClaimFixture, domainOf, highSTwin, signOffer, typesOf } = require("./helpers/claims");

const RACE_GAS_LIMIT = 400_000n;

/**
 * Sends every transaction of `sends` (functions returning a sent transaction) with automine off, mines them in one
 * block in the order sent, and returns their receipts.
 */
async function inOneBlock(sends) {
  await network.provider.send("evm_setAutomine", [false]);
  try {
    const sent = [];
    for (const send of sends) {
      sent.push(await send());
    }
    await network.provider.send("evm_mine");
    const receipts = await Promise.all(sent.map(tx => ethers.provider.getTransactionReceipt(tx.hash)));
    expect(new Set(receipts.map(receipt => receipt.blockNumber)).size).to.equal(1);
    return receipts;
  } finally {
    await network.provider.send("evm_setAutomine", [true]);
  }
}

async function listedOfferFixture() {
  const fixture = await confirmedClaimFixture();
  const { claimToken, seller, claimId, offerFor } = fixture;
  const offer = await offerFor(seller, claimId, { units: 600_000n, price: 570_000n });
  const signature = await signOffer(seller, claimToken, offer);
  return { ...fixture, offer, signature };
}

describe("ClaimToken market", function () {
  describe("buy", function () {
    it("moves the units and the price together", async function () {
      const { claimToken, currency, seller, funder, claimId, offer, signature } = await loadFixture(listedOfferFixture);
      const offerHash = await claimToken.hashOffer(offer);

      const purchase = claimToken.connect(funder).buy(offer, signature, offer.units, offer.price);

      await expect(purchase)
        .to.emit(claimToken, "OfferFilled")
        .withArgs(offerHash, claimId, seller.address, funder.address, offer.units, offer.price)
        .and.to.emit(claimToken, "TransferSingle")
        .withArgs(funder.address, seller.address, funder.address, claimId, offer.units);
      await expect(purchase).to.changeTokenBalances(currency, [funder, seller], [-offer.price, offer.price]);
      expect(await claimToken.balanceOf(funder.address, claimId)).to.equal(offer.units);
      expect(await claimToken.balanceOf(seller.address, claimId)).to.equal(FACE_VALUE - offer.units);
      expect(await claimToken.offerStatus(claimId, seller.address)).to.deep.equal([1n, 0n]);
    });

    it("returns the price paid", async function () {
      const { claimToken, funder, offer, signature } = await loadFixture(listedOfferFixture);

      expect(await claimToken.connect(funder).buy.staticCall(offer, signature, 100_000n, 95_000n)).to.equal(95_000n);
    });

    it("computes the offer digest as a wallet library does", async function () {
      const { claimToken, offer } = await loadFixture(listedOfferFixture);

      expect(await claimToken.hashOffer(offer)).to.equal(
        ethers.TypedDataEncoder.hash(await domainOf(claimToken), typesOf("Offer"), offer),
      );
    });

    it("fills partially, pro rata, rounding the price up", async function () {
      const { claimToken, currency, seller, funder, funder2, claimId, offerFor } =
        await loadFixture(confirmedClaimFixture);
      const offer = await offerFor(seller, claimId, { units: 3n, price: 10n });
      const signature = await signOffer(seller, claimToken, offer);

      await expect(claimToken.connect(funder).buy(offer, signature, 1n, 4n)).to.changeTokenBalances(
        currency,
        [funder, seller],
        [-4n, 4n],
      );
      expect(await claimToken.offerStatus(claimId, seller.address)).to.deep.equal([0n, 1n]);
      await expect(claimToken.connect(funder2).buy(offer, signature, 1n, 3n))
        .to.be.revertedWithCustomError(claimToken, "ClaimMarketPriceAboveMaximum")
        .withArgs(4n, 3n);
      await expect(claimToken.connect(funder2).buy(offer, signature, 2n, 7n)).to.changeTokenBalances(
        currency,
        [funder2, seller],
        [-7n, 7n],
      );
      // 4 + 7 = 11 >= 10: many small fills never pay less than the whole offer.
      expect(await claimToken.offerStatus(claimId, seller.address)).to.deep.equal([1n, 0n]);
    });

    it("never sells more units than offered", async function () {
      const { claimToken, funder, funder2, offer, signature } = await loadFixture(listedOfferFixture);
      await claimToken.connect(funder).buy(offer, signature, 400_000n, ethers.MaxUint256);

      await expect(claimToken.connect(funder2).buy(offer, signature, 200_001n, ethers.MaxUint256))
        .to.be.revertedWithCustomError(claimToken, "ClaimMarketUnitsExceedOffer")
        .withArgs(200_001n, 200_000n);
    });

    it("never sells more units than the seller holds", async function () {
      const { claimToken, seller, supplier, funder, claimId, offerFor } = await loadFixture(confirmedClaimFixture);
      const offer = await offerFor(seller, claimId, { units: FACE_VALUE });
      const signature = await signOffer(seller, claimToken, offer);
      await claimToken.connect(seller).safeTransferFrom(seller.address, supplier.address, claimId, 1n, "0x");

      await expect(claimToken.connect(funder).buy(offer, signature, FACE_VALUE, ethers.MaxUint256))
        .to.be.revertedWithCustomError(claimToken, "ERC1155InsufficientBalance")
        .withArgs(seller.address, FACE_VALUE - 1n, FACE_VALUE, claimId);
    });

    it("charges the funder at most its maximum price", async function () {
      const { claimToken, funder, offer, signature } = await loadFixture(listedOfferFixture);

      await expect(claimToken.connect(funder).buy(offer, signature, offer.units, offer.price - 1n))
        .to.be.revertedWithCustomError(claimToken, "ClaimMarketPriceAboveMaximum")
        .withArgs(offer.price, offer.price - 1n);
    });

    it("moves nothing when the price cannot be paid", async function () {
      const { claimToken, currency, seller, funder, claimId, offer, signature } = await loadFixture(listedOfferFixture);
      await currency.connect(funder).approve(await claimToken.getAddress(), offer.price - 1n);

      await expect(claimToken.connect(funder).buy(offer, signature, offer.units, offer.price))
        .to.be.revertedWithCustomError(currency, "ERC20InsufficientAllowance")
        .withArgs(await claimToken.getAddress(), offer.price - 1n, offer.price);
      expect(await claimToken.balanceOf(seller.address, claimId)).to.equal(FACE_VALUE);
      expect(await claimToken.offerStatus(claimId, seller.address)).to.deep.equal([0n, 0n]);
    });

    it("refuses zero units", async function () {
      const { claimToken, funder, offer, signature } = await loadFixture(listedOfferFixture);

      await expect(
        claimToken.connect(funder).buy(offer, signature, 0n, 0n),
      ).to.be.revertedWithCustomError(claimToken, "ClaimMarketZeroUnits");
    });

    it("refuses an expired offer", async function () {
      const { claimToken, funder, offer, signature } = await loadFixture(listedOfferFixture);
      await time.increaseTo(offer.deadline + 1n);

      await expect(claimToken.connect(funder).buy(offer, signature, 1n, ethers.MaxUint256))
        .to.be.revertedWithCustomError(claimToken, "ClaimMarketOfferExpired")
        .withArgs(offer.deadline);
    });

    it("refuses an offer not signed by its seller, or signed for another chain", async function () {
      const { claimToken, seller, supplier, funder, offer } = await loadFixture(listedOfferFixture);
      const digest = await claimToken.hashOffer(offer);

      const bySupplier = await signOffer(supplier, claimToken, offer);
      await expect(claimToken.connect(funder).buy(offer, bySupplier, 1n, ethers.MaxUint256))
        .to.be.revertedWithCustomError(claimToken, "ClaimMarketInvalidSigner")
        .withArgs(supplier.address, seller.address);

      const otherChain = await signOffer(seller, claimToken, offer, { chainId: 5n });
      await expect(claimToken.connect(funder).buy(offer, otherChain, 1n, ethers.MaxUint256))
        .to.be.revertedWithCustomError(claimToken, "ClaimMarketInvalidSigner")
        .withArgs(ethers.recoverAddress(digest, otherChain), seller.address);
    });

    it("refuses the high-s twin of the seller's signature", async function () {
      const { claimToken, funder, offer, signature } = await loadFixture(listedOfferFixture);
      const twin = highSTwin(signature);

      await expect(claimToken.connect(funder).buy(offer, twin, 1n, ethers.MaxUint256))
        .to.be.revertedWithCustomError(claimToken, "ECDSAInvalidSignatureS")
        .withArgs(ethers.dataSlice(twin, 32, 64));
    });

    it("sells an offer reserved for a buyer to that buyer only", async function () {
      const { claimToken, seller, funder, funder2, claimId, offerFor } = await loadFixture(confirmedClaimFixture);
      const offer = await offerFor(seller, claimId, { buyer: funder.address });
      const signature = await signOffer(seller, claimToken, offer);

      await expect(claimToken.connect(funder2).buy(offer, signature, 1n, ethers.MaxUint256))
        .to.be.revertedWithCustomError(claimToken, "ClaimMarketNotOfferBuyer")
        .withArgs(funder2.address, funder.address);
      await expect(claimToken.connect(funder).buy(offer, signature, 1n, ethers.MaxUint256)).to.emit(
        claimToken,
        "OfferFilled",
      );
    });

    it("refuses a funder that is not a permitted holder", async function () {
      const { claimToken, currency, admin, outsider, offer, signature } = await loadFixture(listedOfferFixture);
      await currency.connect(admin).mint(outsider.address, offer.price);
      await currency.connect(outsider).approve(await claimToken.getAddress(), offer.price);

      await expect(claimToken.connect(outsider).buy(offer, signature, 1n, ethers.MaxUint256))
        .to.be.revertedWithCustomError(claimToken, "ClaimTokenHolderNotPermitted")
        .withArgs(outsider.address);
    });

    it("is refused while paused", async function () {
      const { claimToken, operator, funder, offer, signature } = await loadFixture(listedOfferFixture);
      await claimToken.connect(operator).pause();

      await expect(
        claimToken.connect(funder).buy(offer, signature, 1n, ethers.MaxUint256),
      ).to.be.revertedWithCustomError(claimToken, "EnforcedPause");
    });

    it("refuses a filled offer", async function () {
      const { claimToken, seller, funder, funder2, claimId, offer, signature } = await loadFixture(listedOfferFixture);
      await claimToken.connect(funder).buy(offer, signature, offer.units, offer.price);

      await expect(claimToken.connect(funder2).buy(offer, signature, 1n, ethers.MaxUint256))
        .to.be.revertedWithCustomError(claimToken, "ClaimMarketOfferClosed")
        .withArgs(claimId, seller.address, 0n, 1n);
    });

    it("lets a funder resell what it bought", async function () {
      const { claimToken, funder, funder2, claimId, offer, signature, offerFor } = await loadFixture(listedOfferFixture);
      await claimToken.connect(funder).buy(offer, signature, offer.units, offer.price);
      const resale = await offerFor(funder, claimId, { units: 100_000n, price: 97_000n });

      await claimToken.connect(funder2).buy(resale, await signOffer(funder, claimToken, resale), 100_000n, 97_000n);

      expect(await claimToken.balanceOf(funder2.address, claimId)).to.equal(100_000n);
      expect(await claimToken.balanceOf(funder.address, claimId)).to.equal(offer.units - 100_000n);
    });

    it("counts offers signed with the same nonce against one fill budget", async function () {
      const { claimToken, seller, funder, funder2, claimId, offer, signature, offerFor } =
        await loadFixture(listedOfferFixture);
      await claimToken.connect(funder).buy(offer, signature, 500_000n, ethers.MaxUint256);
      const smaller = await offerFor(seller, claimId, { units: 300_000n, price: 290_000n });

      await expect(
        claimToken.connect(funder2).buy(smaller, await signOffer(seller, claimToken, smaller), 1n, ethers.MaxUint256),
      )
        .to.be.revertedWithCustomError(claimToken, "ClaimMarketUnitsExceedOffer")
        .withArgs(1n, 0n);
    });
  });

  describe("cancelOffers", function () {
    it("closes the seller's open offers on the claim", async function () {
      const { claimToken, seller, funder, claimId, offer, signature } = await loadFixture(listedOfferFixture);

      await expect(claimToken.connect(seller).cancelOffers(claimId))
        .to.emit(claimToken, "OffersCancelled")
        .withArgs(claimId, seller.address, 0n);

      expect(await claimToken.offerStatus(claimId, seller.address)).to.deep.equal([1n, 0n]);
      await expect(claimToken.connect(funder).buy(offer, signature, 1n, ethers.MaxUint256))
        .to.be.revertedWithCustomError(claimToken, "ClaimMarketOfferClosed")
        .withArgs(claimId, seller.address, 0n, 1n);
    });

    it("closes a partly filled offer and resets its count", async function () {
      const { claimToken, seller, funder, claimId, offer, signature, offerFor } = await loadFixture(listedOfferFixture);
      await claimToken.connect(funder).buy(offer, signature, 100_000n, ethers.MaxUint256);

      await claimToken.connect(seller).cancelOffers(claimId);

      expect(await claimToken.offerStatus(claimId, seller.address)).to.deep.equal([1n, 0n]);
      const next = await offerFor(seller, claimId, { units: 600_000n });
      await claimToken.connect(funder).buy(next, await signOffer(seller, claimToken, next), 600_000n, ethers.MaxUint256);
      expect(await claimToken.balanceOf(funder.address, claimId)).to.equal(700_000n);
    });

    it("touches only the caller's offers", async function () {
      const { claimToken, seller, funder, claimId, offer, signature } = await loadFixture(listedOfferFixture);

      await claimToken.connect(funder).cancelOffers(claimId);

      await expect(claimToken.connect(funder).buy(offer, signature, 1n, ethers.MaxUint256)).to.emit(
        claimToken,
        "OfferFilled",
      );
      expect((await claimToken.offerStatus(claimId, seller.address)).nonce).to.equal(0n);
    });

    it("works while paused", async function () {
      const { claimToken, operator, seller, claimId } = await loadFixture(listedOfferFixture);
      await claimToken.connect(operator).pause();

      await expect(claimToken.connect(seller).cancelOffers(claimId)).to.emit(claimToken, "OffersCancelled");
    });
  });

  describe("races in one block", function () {
    it("two funders racing for the same units: one wins, the loser's balances are untouched", async function () {
      const { claimToken, currency, seller, funder, funder2, claimId, offer, signature } =
        await loadFixture(listedOfferFixture);
      const loserCurrencyBefore = await currency.balanceOf(funder2.address);

      const [first, second] = await inOneBlock([
        () => claimToken.connect(funder).buy(offer, signature, offer.units, offer.price, { gasLimit: RACE_GAS_LIMIT }),
        () => claimToken.connect(funder2).buy(offer, signature, offer.units, offer.price, { gasLimit: RACE_GAS_LIMIT }),
      ]);

      expect([first.status, second.status]).to.deep.equal([1, 0]);
      expect(await claimToken.balanceOf(funder.address, claimId)).to.equal(offer.units);
      expect(await claimToken.balanceOf(funder2.address, claimId)).to.equal(0n);
      expect(await currency.balanceOf(funder2.address)).to.equal(loserCurrencyBefore);
      expect(await claimToken.balanceOf(seller.address, claimId)).to.equal(FACE_VALUE - offer.units);
    });

    it("partial purchases racing never sell more units than offered", async function () {
      const { claimToken, currency, seller, funder, funder2, supplier, claimId, offer, signature } =
        await loadFixture(listedOfferFixture);
      const buyers = [funder, funder2, supplier];
      const before = await Promise.all(buyers.map(buyer => currency.balanceOf(buyer.address)));

      const receipts = await inOneBlock(
        buyers.map(
          buyer => () =>
            claimToken.connect(buyer).buy(offer, signature, 250_000n, ethers.MaxUint256, { gasLimit: RACE_GAS_LIMIT }),
        ),
      );

      expect(receipts.map(receipt => receipt.status)).to.deep.equal([1, 1, 0]);
      const sold = FACE_VALUE - (await claimToken.balanceOf(seller.address, claimId));
      expect(sold).to.equal(500_000n);
      expect(sold).to.be.at.most(offer.units);
      expect(await claimToken.balanceOf(supplier.address, claimId)).to.equal(0n);
      expect(await currency.balanceOf(supplier.address)).to.equal(before[2]);
    });

    it("a cancel mined before a purchase wins: cancelled, not financed", async function () {
      const { claimToken, currency, seller, funder, claimId, offer, signature } = await loadFixture(listedOfferFixture);
      const funderBefore = await currency.balanceOf(funder.address);

      const [cancel, purchase] = await inOneBlock([
        () => claimToken.connect(seller).cancelOffers(claimId, { gasLimit: RACE_GAS_LIMIT }),
        () => claimToken.connect(funder).buy(offer, signature, offer.units, offer.price, { gasLimit: RACE_GAS_LIMIT }),
      ]);

      expect([cancel.status, purchase.status]).to.deep.equal([1, 0]);
      expect(await claimToken.balanceOf(seller.address, claimId)).to.equal(FACE_VALUE);
      expect(await currency.balanceOf(funder.address)).to.equal(funderBefore);
    });

    it("a purchase mined before a cancel wins: financed, and the cancel closes only the next nonce", async function () {
      const { claimToken, seller, funder, claimId, offer, signature } = await loadFixture(listedOfferFixture);

      const [purchase, cancel] = await inOneBlock([
        () => claimToken.connect(funder).buy(offer, signature, offer.units, offer.price, { gasLimit: RACE_GAS_LIMIT }),
        () => claimToken.connect(seller).cancelOffers(claimId, { gasLimit: RACE_GAS_LIMIT }),
      ]);

      expect([purchase.status, cancel.status]).to.deep.equal([1, 1]);
      expect(await claimToken.balanceOf(funder.address, claimId)).to.equal(offer.units);
      const cancelled = claimToken.interface.parseLog(cancel.logs[0]);
      expect(cancelled.name).to.equal("OffersCancelled");
      expect(cancelled.args.nonce).to.equal(1n); // not the filled offer's nonce
      expect(await claimToken.offerStatus(claimId, seller.address)).to.deep.equal([2n, 0n]);
    });
  });

  describe("priceFor", function () {
    it("discounts by simple daily interest: face / (1 + rate * days), rounded down", async function () {
      const { claimToken } = await loadFixture(confirmedClaimFixture);
      const RATE_SCALE = await claimToken.RATE_SCALE();

      expect(RATE_SCALE).to.equal(10n ** 18n);
      // 0.1% a day for 30 days: 1,000,000 / 1.03 = 970,873.78...
      expect(await claimToken.priceFor(FACE_VALUE, 10n ** 15n, 30n)).to.equal(970_873n);
      // 5% a year, 90 days: 1,000,000 / (1 + 0.05 * 90 / 365) = 987,821.38...
      expect(await claimToken.priceFor(FACE_VALUE, (5n * 10n ** 16n) / 365n, 90n)).to.equal(987_821n);
      expect(await claimToken.priceFor(FACE_VALUE, 10n ** 15n, 0n)).to.equal(FACE_VALUE);
      expect(await claimToken.priceFor(FACE_VALUE, 0n, 180n)).to.equal(FACE_VALUE);
    });
  });
});
