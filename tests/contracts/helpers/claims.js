// Shared fixtures and signing helpers for the ClaimToken suites (no tests here).
//
// Every message is signed the way a wallet signs it: `signer.signTypedData(domain, types, value)`, with the types
// read from contracts/eip712.json, the file the Python service serves typed data from.

const { ethers } = require("hardhat");
const { time } = require("@nomicfoundation/hardhat-network-helpers");
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");

const EIP712 = require("../../../contracts/eip712.json");

const DAY = 24n * 60n * 60n;
const GRACE_PERIOD = 7n * DAY;
const DEFAULT_PERIOD = 90n * DAY;
const FACE_VALUE = 1_000_000n; // 10,000.00 EUR in cents
const DOCUMENT_COUNT = 8;
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

const ClaimState = { Nonexistent: 0n, Active: 1n, Due: 2n, Overdue: 3n, Defaulted: 4n, Paid: 5n, Closed: 6n };

const typesOf = primaryType => ({ [primaryType]: EIP712.types[primaryType] });

async function domainOf(claimToken) {
  return {
    name: EIP712.domain.name,
    version: EIP712.domain.version,
    chainId: (await ethers.provider.getNetwork()).chainId,
    verifyingContract: await claimToken.getAddress(),
  };
}

async function signConfirmation(signer, claimToken, confirmation, domainOverrides = {}) {
  const domain = { ...(await domainOf(claimToken)), ...domainOverrides };
  return signer.signTypedData(domain, typesOf("Confirmation"), confirmation);
}

async function signOffer(signer, claimToken, offer, domainOverrides = {}) {
  const domain = { ...(await domainOf(claimToken)), ...domainOverrides };
  return signer.signTypedData(domain, typesOf("Offer"), offer);
}

/** Returns the high-s twin (r, n - s, v flipped) of a 65-byte signature: the same signer, other bytes. */
function highSTwin(signature) {
  const { r, s, v } = ethers.Signature.from(signature);
  const twinS = SECP256K1_N - BigInt(s);
  return ethers.concat([r, ethers.toBeHex(twinS, 32), v === 27 ? "0x1c" : "0x1b"]);
}

async function deployClaimsFixture() {
  const signers = await ethers.getSigners();
  const [admin, operator, relayer, seller, obligor, obligorKey, funder, funder2, supplier, outsider] = signers;

  const registry = await ethers.deployContract("ReceivableRegistry", [admin.address, operator.address]);
  const currency = await ethers.deployContract("SettlementToken", ["Euro Settlement Token", "EURS", 2, admin.address]);
  const claimToken = await ethers.deployContract("ClaimToken", [
    admin.address,
    operator.address,
    await registry.getAddress(),
    GRACE_PERIOD,
    DEFAULT_PERIOD,
  ]);

  for (const party of [seller, funder, funder2, supplier]) {
    await claimToken.connect(operator).registerParty(party.address, ethers.ZeroAddress);
  }
  await claimToken.connect(operator).registerParty(obligor.address, obligorKey.address);
  await claimToken.connect(operator).listCurrency(await currency.getAddress());

  const documentRoots = Array.from({ length: DOCUMENT_COUNT }, (_, i) => ethers.id(`invoice-${i}`));
  const tree = StandardMerkleTree.of(
    documentRoots.map(root => [root]),
    ["bytes32"],
  );
  await registry.connect(operator).anchorBatch(tree.root, tree.length);

  const claimTokenAddress = await claimToken.getAddress();
  for (const payer of [obligor, funder, funder2, supplier, seller]) {
    await currency.connect(admin).mint(payer.address, 100n * FACE_VALUE);
    await currency.connect(payer).approve(claimTokenAddress, ethers.MaxUint256);
  }

  const now = BigInt(await time.latest());
  const dueDate = now + 60n * DAY;

  /** Returns the confirmation of document `index`, with `overrides`. */
  async function confirmationFor(index, overrides = {}) {
    return {
      documentRoot: documentRoots[index],
      batchRoot: tree.root,
      seller: seller.address,
      obligor: obligor.address,
      currency: await currency.getAddress(),
      faceValue: FACE_VALUE,
      dueDate,
      nonce: await claimToken.nonces(obligor.address),
      deadline: BigInt(await time.latest()) + DAY,
      ...overrides,
    };
  }

  const proofFor = index => tree.getProof(index);

  /** Confirms document `index` through the relayer and returns the claim id. */
  async function confirmClaim(index, overrides = {}) {
    const confirmation = await confirmationFor(index, overrides);
    const signature = await signConfirmation(obligorKey, claimToken, confirmation);
    await claimToken.connect(relayer).confirm(confirmation, signature, proofFor(index));
    return BigInt(confirmation.documentRoot);
  }

  /** Returns an offer by `holder` on `claimId`, with its open nonce and `overrides`. */
  async function offerFor(holder, claimId, overrides = {}) {
    const [nonce] = await claimToken.offerStatus(claimId, holder.address);
    return {
      claimId,
      units: FACE_VALUE,
      price: 950_000n,
      seller: holder.address,
      buyer: ethers.ZeroAddress,
      nonce,
      deadline: BigInt(await time.latest()) + DAY,
      ...overrides,
    };
  }

  return {
    admin,
    operator,
    relayer,
    seller,
    obligor,
    obligorKey,
    funder,
    funder2,
    supplier,
    outsider,
    signers,
    registry,
    currency,
    claimToken,
    tree,
    documentRoots,
    dueDate,
    confirmationFor,
    proofFor,
    confirmClaim,
    offerFor,
  };
}

/** The claims fixture with document 0 confirmed as `claimId`, held whole by the seller. */
async function confirmedClaimFixture() {
  const fixture = await deployClaimsFixture();
  const claimId = await fixture.confirmClaim(0);
  return { ...fixture, claimId };
}

module.exports = {
  ClaimState,
  DAY,
  DEFAULT_PERIOD,
  DOCUMENT_COUNT,
  EIP712,
  FACE_VALUE,
  GRACE_PERIOD,
  SECP256K1_N,
  confirmedClaimFixture,
  deployClaimsFixture,
  domainOf,
  highSTwin,
  signConfirmation,
  signOffer,
  typesOf,
};
