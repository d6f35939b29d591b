const hre = require("hardhat");
const { ethers } = hre;
const { expect } = require("chai");
const { loadFixture, time } = require("@nomicfoundation/hardhat-network-helpers");

const {
  ClaimState,
  DEFAULT_PERIOD,
  EIP712,
  FACE_VALUE,
  GRACE_PERIOD,
  SECP256K1_N,
  confirmedClaimFixture,
  deployClaimsFixture,
  domainOf,
  highSTwin,
  signConfirmation,
  typesOf,
} = require("./helpers/claims");

function interfaceId(contractInterface) {
  let id = 0n;
  contractInterface.forEachFunction(fn => {
    id ^= BigInt(fn.selector);
  });
  return ethers.toBeHex(id, 4);
}

/** The address that `signature` recovers to for `confirmation` on the real ClaimToken domain. */
async function recoveredSigner(claimToken, confirmation, signature) {
  const digest = ethers.TypedDataEncoder.hash(await domainOf(claimToken), typesOf("Confirmation"), confirmation);
  return ethers.recoverAddress(digest, signature);
}

describe("ClaimToken", function () {
  describe("deployment", function () {
    it("grants the admin and operator roles", async function () {
      const { claimToken, admin, operator } = await loadFixture(deployClaimsFixture);

      expect(await claimToken.hasRole(await claimToken.DEFAULT_ADMIN_ROLE(), admin)).to.be.true;
      expect(await claimToken.hasRole(await claimToken.OPERATOR_ROLE(), operator)).to.be.true;
      expect(await claimToken.OPERATOR_ROLE()).to.equal(ethers.id("OPERATOR_ROLE"));
    });

    it("grants no operator role to the zero address", async function () {
      const { admin, registry } = await loadFixture(deployClaimsFixture);
      const claimToken = await ethers.deployContract("ClaimToken", [
        admin.address,
        ethers.ZeroAddress,
        await registry.getAddress(),
        GRACE_PERIOD,
        DEFAULT_PERIOD,
      ]);

      expect(await claimToken.hasRole(await claimToken.OPERATOR_ROLE(), ethers.ZeroAddress)).to.be.false;
    });

    it("refuses a default period not longer than the grace period", async function () {
      const { admin, registry } = await loadFixture(deployClaimsFixture);
      const factory = await ethers.getContractFactory("ClaimToken");

      await expect(
        factory.deploy(admin.address, admin.address, await registry.getAddress(), GRACE_PERIOD, GRACE_PERIOD),
      )
        .to.be.revertedWithCustomError(factory, "ClaimTokenInvalidPeriods")
        .withArgs(GRACE_PERIOD, GRACE_PERIOD);
    });

    it("reports its registry and settlement periods", async function () {
      const { claimToken, registry } = await loadFixture(deployClaimsFixture);

      expect(await claimToken.registry()).to.equal(await registry.getAddress());
      expect(await claimToken.settlementPeriods()).to.deep.equal([GRACE_PERIOD, DEFAULT_PERIOD]);
    });

    it("supports the claim token, market, ERC-1155, AccessControl and ERC-165 interfaces", async function () {
      const { claimToken } = await loadFixture(deployClaimsFixture);
      const abiOf = async name => new ethers.Interface((await hre.artifacts.readArtifact(name)).abi);

      for (const name of ["IClaimToken", "IClaimMarket", "IAccessControl"]) {
        expect(await claimToken.supportsInterface(interfaceId(await abiOf(name))), name).to.be.true;
      }
      expect(await claimToken.supportsInterface("0xd9b67a26")).to.be.true; // ERC-1155
      expect(await claimToken.supportsInterface("0x01ffc9a7")).to.be.true;
      expect(await claimToken.supportsInterface("0xffffffff")).to.be.false;
    });
  });

  describe("EIP-712 definitions", function () {
    it("publishes the domain of contracts/eip712.json (ERC-5267)", async function () {
      const { claimToken } = await loadFixture(deployClaimsFixture);

      const domain = await claimToken.eip712Domain();

      expect(domain.fields).to.equal("0x0f"); // name, version, chainId, verifyingContract
      expect(domain.name).to.equal(EIP712.domain.name);
      expect(domain.version).to.equal(EIP712.domain.version);
      expect(domain.chainId).to.equal((await ethers.provider.getNetwork()).chainId);
      expect(domain.verifyingContract).to.equal(await claimToken.getAddress());
      expect(EIP712.types.EIP712Domain.map(field => field.name)).to.deep.equal([
        "name",
        "version",
        "chainId",
        "verifyingContract",
      ]);
    });

    it("hashes the types of contracts/eip712.json into the contract's type hashes", async function () {
      const { claimToken } = await loadFixture(deployClaimsFixture);

      for (const [primaryType, typeHash] of [
        ["Confirmation", await claimToken.CONFIRMATION_TYPEHASH()],
        ["Offer", await claimToken.OFFER_TYPEHASH()],
      ]) {
        const encoded = ethers.TypedDataEncoder.from(typesOf(primaryType)).encodeType(primaryType);
        expect(ethers.id(encoded), primaryType).to.equal(typeHash);
      }
    });

    it("computes the same confirmation digest as a wallet library", async function () {
      const { claimToken, confirmationFor } = await loadFixture(deployClaimsFixture);
      const confirmation = await confirmationFor(0);

      const digest = ethers.TypedDataEncoder.hash(await domainOf(claimToken), typesOf("Confirmation"), confirmation);

      expect(await claimToken.hashConfirmation(confirmation)).to.equal(digest);
    });

    it("accepts a confirmation signed with signTypedData over the eth_signTypedData_v4 JSON, unchanged", async function () {
      const { claimToken, obligorKey, relayer, confirmationFor, proofFor } = await loadFixture(deployClaimsFixture);
      const confirmation = await confirmationFor(0);
      // The payload a service would serve: JSON text with numbers as decimal strings, as a wallet receives it,
      // with the domain type and the primary type only (ethers, like some wallets, refuses unused types).
      const payload = JSON.parse(
        JSON.stringify({
          types: { EIP712Domain: EIP712.types.EIP712Domain, Confirmation: EIP712.types.Confirmation },
          primaryType: "Confirmation",
          domain: {
            ...EIP712.domain,
            chainId: (await domainOf(claimToken)).chainId,
            verifyingContract: await claimToken.getAddress(),
          },
          message: confirmation,
        }, (_, value) => (typeof value === "bigint" ? value.toString() : value)),
      );
      const { EIP712Domain, ...types } = payload.types; // ethers derives the domain type itself

      const signature = await obligorKey.signTypedData(payload.domain, types, payload.message);

      await expect(claimToken.connect(relayer).confirm(confirmation, signature, proofFor(0))).to.emit(
        claimToken,
        "ClaimConfirmed",
      );
      expect(EIP712Domain).to.have.lengthOf(4);
    });

    it("accepts a signature made over eth_signTypedData_v4 JSON-RPC", async function () {
      const { claimToken, obligorKey, relayer, confirmationFor, proofFor } = await loadFixture(deployClaimsFixture);
      const confirmation = await confirmationFor(0);
      const domain = await domainOf(claimToken);
      const typedData = JSON.stringify(
        { types: EIP712.types, primaryType: "Confirmation", domain, message: confirmation },
        (_, value) => (typeof value === "bigint" ? value.toString() : value),
      );

      const signature = await ethers.provider.send("eth_signTypedData_v4", [obligorKey.address, typedData]);

      await expect(claimToken.connect(relayer).confirm(confirmation, signature, proofFor(0))).to.emit(
        claimToken,
        "ClaimConfirmed",
      );
    });
  });

  describe("parties", function () {
    it("registers a party with consecutive ids, permitted, with its key, and spends nonce 0", async function () {
      const { claimToken, operator, outsider, obligor, obligorKey } = await loadFixture(deployClaimsFixture);

      await expect(claimToken.connect(operator).registerParty(outsider.address, outsider.address))
        .to.emit(claimToken, "PartyRegistered")
        .withArgs(outsider.address, 6n, outsider.address);

      expect(await claimToken.partyOf(outsider.address)).to.deep.equal([6n, true, outsider.address]);
      expect(await claimToken.partyOf(obligor.address)).to.deep.equal([5n, true, obligorKey.address]);
      expect(await claimToken.isPermitted(outsider.address)).to.be.true;
      expect(await claimToken.nonces(outsider.address)).to.equal(1n);
    });

    it("knows nothing of an unregistered address", async function () {
      const { claimToken, outsider } = await loadFixture(deployClaimsFixture);

      expect(await claimToken.partyOf(outsider.address)).to.deep.equal([0n, false, ethers.ZeroAddress]);
      expect(await claimToken.isPermitted(outsider.address)).to.be.false;
    });

    it("refuses the zero address and a second registration", async function () {
      const { claimToken, operator, seller } = await loadFixture(deployClaimsFixture);

      await expect(claimToken.connect(operator).registerParty(ethers.ZeroAddress, ethers.ZeroAddress))
        .to.be.revertedWithCustomError(claimToken, "ClaimTokenInvalidParty")
        .withArgs(ethers.ZeroAddress);
      await expect(claimToken.connect(operator).registerParty(seller.address, ethers.ZeroAddress))
        .to.be.revertedWithCustomError(claimToken, "ClaimTokenPartyAlreadyRegistered")
        .withArgs(seller.address);
    });

    it("replaces an obligor's key", async function () {
      const { claimToken, operator, obligor, obligorKey, outsider } = await loadFixture(deployClaimsFixture);

      await expect(claimToken.connect(operator).setObligorSigner(obligor.address, outsider.address))
        .to.emit(claimToken, "ObligorSignerChanged")
        .withArgs(obligor.address, obligorKey.address, outsider.address);
      expect((await claimToken.partyOf(obligor.address)).obligorSigner).to.equal(outsider.address);
    });

    it("withdraws and restores a party's permission", async function () {
      const { claimToken, operator, funder } = await loadFixture(deployClaimsFixture);

      await expect(claimToken.connect(operator).setPartyPermitted(funder.address, false))
        .to.emit(claimToken, "PartyPermissionChanged")
        .withArgs(funder.address, false);
      expect(await claimToken.isPermitted(funder.address)).to.be.false;

      await claimToken.connect(operator).setPartyPermitted(funder.address, true);
      expect(await claimToken.isPermitted(funder.address)).to.be.true;
    });

    it("refuses to change an unregistered party", async function () {
      const { claimToken, operator, outsider } = await loadFixture(deployClaimsFixture);

      await expect(claimToken.connect(operator).setObligorSigner(outsider.address, outsider.address))
        .to.be.revertedWithCustomError(claimToken, "ClaimTokenUnknownParty")
        .withArgs(outsider.address);
      await expect(claimToken.connect(operator).setPartyPermitted(outsider.address, true))
        .to.be.revertedWithCustomError(claimToken, "ClaimTokenUnknownParty")
        .withArgs(outsider.address);
    });
  });

  describe("currencies", function () {
    it("lists currencies with consecutive ids", async function () {
      const { claimToken, operator, admin, currency } = await loadFixture(deployClaimsFixture);
      const usd = await ethers.deployContract("SettlementToken", ["USD Settlement Token", "USDS", 6, admin.address]);

      expect(await claimToken.currencyOf(await currency.getAddress())).to.deep.equal([1n, true]);
      await expect(claimToken.connect(operator).listCurrency(await usd.getAddress()))
        .to.emit(claimToken, "CurrencyListed")
        .withArgs(await usd.getAddress(), 2n);
      expect(await claimToken.currencyOf(await usd.getAddress())).to.deep.equal([2n, true]);
    });

    it("refuses the zero address and a listed currency", async function () {
      const { claimToken, operator, currency } = await loadFixture(deployClaimsFixture);

      await expect(claimToken.connect(operator).listCurrency(ethers.ZeroAddress))
        .to.be.revertedWithCustomError(claimToken, "ClaimTokenInvalidCurrency")
        .withArgs(ethers.ZeroAddress);
      await expect(claimToken.connect(operator).listCurrency(await currency.getAddress()))
        .to.be.revertedWithCustomError(claimToken, "ClaimTokenInvalidCurrency")
        .withArgs(await currency.getAddress());
    });

    it("delists a currency and lists it again under the same id", async function () {
      const { claimToken, operator, currency } = await loadFixture(deployClaimsFixture);
      const address = await currency.getAddress();

      await expect(claimToken.connect(operator).delistCurrency(address))
        .to.emit(claimToken, "CurrencyDelisted")
        .withArgs(address, 1n);
      expect(await claimToken.currencyOf(address)).to.deep.equal([1n, false]);
      await expect(claimToken.connect(operator).delistCurrency(address))
        .to.be.revertedWithCustomError(claimToken, "ClaimTokenCurrencyNotListed")
        .withArgs(address);

      await expect(claimToken.connect(operator).listCurrency(address))
        .to.emit(claimToken, "CurrencyListed")
        .withArgs(address, 1n);
    });
  });

  describe("access control", function () {
    it("reverts every operator function for anyone else", async function () {
      const { claimToken, outsider, seller, currency } = await loadFixture(deployClaimsFixture);
      const OPERATOR_ROLE = await claimToken.OPERATOR_ROLE();
      const asOutsider = claimToken.connect(outsider);

      for (const call of [
        () => asOutsider.registerParty(outsider.address, outsider.address),
        () => asOutsider.setObligorSigner(seller.address, outsider.address),
        () => asOutsider.setPartyPermitted(seller.address, false),
        async () => asOutsider.listCurrency(await currency.getAddress()),
        async () => asOutsider.delistCurrency(await currency.getAddress()),
        () => asOutsider.pause(),
        () => asOutsider.unpause(),
      ]) {
        await expect(call())
          .to.be.revertedWithCustomError(claimToken, "AccessControlUnauthorizedAccount")
          .withArgs(outsider.address, OPERATOR_ROLE);
      }
    });
  });

  describe("confirm", function () {
    it("mints the face value to the seller and records the claim", async function () {
      const { claimToken, relayer, seller, obligor, obligorKey, currency, tree, confirmationFor, proofFor, dueDate } =
        await loadFixture(deployClaimsFixture);
      const confirmation = await confirmationFor(0);
      const signature = await signConfirmation(obligorKey, claimToken, confirmation);
      const claimId = BigInt(confirmation.documentRoot);

      await expect(claimToken.connect(relayer).confirm(confirmation, signature, proofFor(0)))
        .to.emit(claimToken, "ClaimConfirmed")
        .withArgs(claimId, seller.address, obligor.address, await currency.getAddress(), FACE_VALUE, dueDate, tree.root)
        .and.to.emit(claimToken, "TransferSingle")
        .withArgs(relayer.address, ethers.ZeroAddress, seller.address, claimId, FACE_VALUE);

      expect(await claimToken.balanceOf(seller.address, claimId)).to.equal(FACE_VALUE);
      expect(await claimToken.claimOf(claimId)).to.deep.equal([
        confirmation.documentRoot,
        seller.address,
        obligor.address,
        await currency.getAddress(),
        FACE_VALUE,
        dueDate,
      ]);
      expect(await claimToken.claimState(claimId)).to.equal(ClaimState.Active);
      expect(await claimToken.nonces(obligor.address)).to.equal(confirmation.nonce + 1n);
    });

    it("returns the claim id, which is the document root", async function () {
      const { claimToken, relayer, obligorKey, confirmationFor, proofFor } = await loadFixture(deployClaimsFixture);
      const confirmation = await confirmationFor(3);
      const signature = await signConfirmation(obligorKey, claimToken, confirmation);

      expect(await claimToken.connect(relayer).confirm.staticCall(confirmation, signature, proofFor(3))).to.equal(
        BigInt(confirmation.documentRoot),
      );
    });

    it("accepts the largest face value and due date", async function () {
      const { claimToken, confirmClaim } = await loadFixture(deployClaimsFixture);
      const maxFace = 2n ** 96n - 1n;
      const maxDue = 2n ** 40n - 1n;

      const claimId = await confirmClaim(1, { faceValue: maxFace, dueDate: maxDue });

      const record = await claimToken.claimOf(claimId);
      expect(record.faceValue).to.equal(maxFace);
      expect(record.dueDate).to.equal(maxDue);
    });

    it("refuses a replayed signature: the nonce is spent", async function () {
      const { claimToken, relayer, obligor, obligorKey, confirmationFor, proofFor } =
        await loadFixture(deployClaimsFixture);
      const confirmation = await confirmationFor(0);
      const signature = await signConfirmation(obligorKey, claimToken, confirmation);
      await claimToken.connect(relayer).confirm(confirmation, signature, proofFor(0));

      await expect(claimToken.connect(relayer).confirm(confirmation, signature, proofFor(0)))
        .to.be.revertedWithCustomError(claimToken, "InvalidAccountNonce")
        .withArgs(obligor.address, confirmation.nonce + 1n);
    });

    it("refuses a signature with a nonce not yet reached", async function () {
      const { claimToken, relayer, obligor, obligorKey, confirmationFor, proofFor } =
        await loadFixture(deployClaimsFixture);
      const confirmation = await confirmationFor(0, { nonce: 7n });
      const signature = await signConfirmation(obligorKey, claimToken, confirmation);

      await expect(claimToken.connect(relayer).confirm(confirmation, signature, proofFor(0)))
        .to.be.revertedWithCustomError(claimToken, "InvalidAccountNonce")
        .withArgs(obligor.address, 1n);
    });

    it("refuses a second confirmation of the same document root", async function () {
      const { claimToken, relayer, obligorKey, confirmationFor, proofFor, confirmClaim } =
        await loadFixture(deployClaimsFixture);
      await confirmClaim(0);
      const again = await confirmationFor(0, { faceValue: FACE_VALUE * 2n });
      const signature = await signConfirmation(obligorKey, claimToken, again);

      await expect(claimToken.connect(relayer).confirm(again, signature, proofFor(0)))
        .to.be.revertedWithCustomError(claimToken, "ClaimTokenAlreadyConfirmed")
        .withArgs(again.documentRoot);
    });

    it("refuses a signature made for another chain id", async function () {
      const { claimToken, relayer, obligor, obligorKey, confirmationFor, proofFor } =
        await loadFixture(deployClaimsFixture);
      const confirmation = await confirmationFor(0);
      const signature = await signConfirmation(obligorKey, claimToken, confirmation, { chainId: 1n });

      await expect(claimToken.connect(relayer).confirm(confirmation, signature, proofFor(0)))
        .to.be.revertedWithCustomError(claimToken, "ClaimTokenInvalidSigner")
        .withArgs(await recoveredSigner(claimToken, confirmation, signature), obligor.address);
    });

    it("refuses a signature made for another contract", async function () {
      const { claimToken, registry, admin, operator, relayer, obligor, obligorKey, confirmationFor, proofFor } =
        await loadFixture(deployClaimsFixture);
      const otherToken = await ethers.deployContract("ClaimToken", [
        admin.address,
        operator.address,
        await registry.getAddress(),
        GRACE_PERIOD,
        DEFAULT_PERIOD,
      ]);
      const confirmation = await confirmationFor(0);
      const signature = await signConfirmation(obligorKey, otherToken, confirmation);

      await expect(claimToken.connect(relayer).confirm(confirmation, signature, proofFor(0)))
        .to.be.revertedWithCustomError(claimToken, "ClaimTokenInvalidSigner")
        .withArgs(await recoveredSigner(claimToken, confirmation, signature), obligor.address);
    });

    it("refuses a confirmation whose signed fields were changed", async function () {
      const { claimToken, relayer, obligor, obligorKey, confirmationFor, proofFor } =
        await loadFixture(deployClaimsFixture);
      const confirmation = await confirmationFor(0);
      const signature = await signConfirmation(obligorKey, claimToken, confirmation);
      const tampered = { ...confirmation, faceValue: FACE_VALUE + 1n };

      await expect(claimToken.connect(relayer).confirm(tampered, signature, proofFor(0)))
        .to.be.revertedWithCustomError(claimToken, "ClaimTokenInvalidSigner")
        .withArgs(await recoveredSigner(claimToken, tampered, signature), obligor.address);
    });

    it("refuses a confirmation past its deadline, and accepts one in its last second", async function () {
      const { claimToken, relayer, obligorKey, confirmationFor, proofFor } = await loadFixture(deployClaimsFixture);
      const deadline = BigInt(await time.latest()) + 100n;
      const confirmation = await confirmationFor(0, { deadline });
      const signature = await signConfirmation(obligorKey, claimToken, confirmation);

      await time.setNextBlockTimestamp(deadline + 1n);
      await expect(claimToken.connect(relayer).confirm(confirmation, signature, proofFor(0)))
        .to.be.revertedWithCustomError(claimToken, "ClaimTokenExpiredConfirmation")
        .withArgs(deadline);

      const inTime = await confirmationFor(1, { deadline: BigInt(await time.latest()) + 10n });
      const inTimeSignature = await signConfirmation(obligorKey, claimToken, inTime);
      await time.setNextBlockTimestamp(inTime.deadline);
      await expect(claimToken.connect(relayer).confirm(inTime, inTimeSignature, proofFor(1))).to.emit(
        claimToken,
        "ClaimConfirmed",
      );
    });

    it("refuses the high-s twin of a valid signature, and takes the valid one after", async function () {
      const { claimToken, relayer, obligorKey, confirmationFor, proofFor } = await loadFixture(deployClaimsFixture);
      const confirmation = await confirmationFor(0);
      const signature = await signConfirmation(obligorKey, claimToken, confirmation);
      const twin = highSTwin(signature);

      // The twin (r, n - s, v flipped) is a valid secp256k1 signature of the same digest by the same key, which
      // the contract refuses, so a signature has exactly one accepted encoding.
      expect(BigInt(ethers.dataSlice(twin, 32, 64))).to.be.greaterThan(SECP256K1_N / 2n);
      const digest = await claimToken.hashConfirmation(confirmation);
      const precompileInput = ethers.AbiCoder.defaultAbiCoder().encode(
        ["bytes32", "uint8", "bytes32", "bytes32"],
        [digest, ethers.dataSlice(twin, 64, 65), ethers.dataSlice(twin, 0, 32), ethers.dataSlice(twin, 32, 64)],
      );
      const ecrecoverPrecompile = "0x0000000000000000000000000000000000000001";
      const recovered = await ethers.provider.call({ to: ecrecoverPrecompile, data: precompileInput });
      expect(ethers.getAddress(ethers.dataSlice(recovered, 12))).to.equal(obligorKey.address);
      await expect(claimToken.connect(relayer).confirm(confirmation, twin, proofFor(0)))
        .to.be.revertedWithCustomError(claimToken, "ECDSAInvalidSignatureS")
        .withArgs(ethers.dataSlice(twin, 32, 64));

      await expect(claimToken.connect(relayer).confirm(confirmation, signature, proofFor(0))).to.emit(
        claimToken,
        "ClaimConfirmed",
      );
    });

    it("refuses a signature by a key that is not the obligor's registered one", async function () {
      const { claimToken, relayer, obligor, outsider, confirmationFor, proofFor } =
        await loadFixture(deployClaimsFixture);
      const confirmation = await confirmationFor(0);
      const signature = await signConfirmation(outsider, claimToken, confirmation);

      await expect(claimToken.connect(relayer).confirm(confirmation, signature, proofFor(0)))
        .to.be.revertedWithCustomError(claimToken, "ClaimTokenInvalidSigner")
        .withArgs(outsider.address, obligor.address);
    });

    it("refuses the obligor's own address as signer when its key is another", async function () {
      const { claimToken, relayer, obligor, confirmationFor, proofFor } = await loadFixture(deployClaimsFixture);
      const confirmation = await confirmationFor(0);
      const signature = await signConfirmation(obligor, claimToken, confirmation);

      await expect(claimToken.connect(relayer).confirm(confirmation, signature, proofFor(0)))
        .to.be.revertedWithCustomError(claimToken, "ClaimTokenInvalidSigner")
        .withArgs(obligor.address, obligor.address);
    });

    it("follows a key rotation: the old key fails, the new key signs", async function () {
      const { claimToken, operator, relayer, obligor, obligorKey, outsider, confirmationFor, proofFor } =
        await loadFixture(deployClaimsFixture);
      await claimToken.connect(operator).setObligorSigner(obligor.address, outsider.address);
      const confirmation = await confirmationFor(0);

      const oldSignature = await signConfirmation(obligorKey, claimToken, confirmation);
      await expect(claimToken.connect(relayer).confirm(confirmation, oldSignature, proofFor(0)))
        .to.be.revertedWithCustomError(claimToken, "ClaimTokenInvalidSigner")
        .withArgs(obligorKey.address, obligor.address);

      const newSignature = await signConfirmation(outsider, claimToken, confirmation);
      await expect(claimToken.connect(relayer).confirm(confirmation, newSignature, proofFor(0))).to.emit(
        claimToken,
        "ClaimConfirmed",
      );
    });

    it("refuses an obligor that is unregistered, keyless or no longer permitted", async function () {
      const { claimToken, operator, relayer, obligor, obligorKey, outsider, funder, confirmationFor, proofFor } =
        await loadFixture(deployClaimsFixture);

      for (const party of [outsider, funder]) {
        const confirmation = await confirmationFor(0, { obligor: party.address, nonce: 1n });
        const signature = await signConfirmation(party, claimToken, confirmation);
        await expect(claimToken.connect(relayer).confirm(confirmation, signature, proofFor(0)))
          .to.be.revertedWithCustomError(claimToken, "ClaimTokenObligorNotRegistered")
          .withArgs(party.address);
      }

      await claimToken.connect(operator).setPartyPermitted(obligor.address, false);
      const confirmation = await confirmationFor(0);
      const signature = await signConfirmation(obligorKey, claimToken, confirmation);
      await expect(claimToken.connect(relayer).confirm(confirmation, signature, proofFor(0)))
        .to.be.revertedWithCustomError(claimToken, "ClaimTokenObligorNotRegistered")
        .withArgs(obligor.address);
    });

    it("refuses a document root that is not in the anchored batch", async function () {
      const { claimToken, relayer, obligorKey, tree, confirmationFor, proofFor } =
        await loadFixture(deployClaimsFixture);
      const foreignRoot = ethers.id("never-anchored");
      const confirmation = await confirmationFor(0, { documentRoot: foreignRoot });
      const signature = await signConfirmation(obligorKey, claimToken, confirmation);

      await expect(claimToken.connect(relayer).confirm(confirmation, signature, proofFor(0)))
        .to.be.revertedWithCustomError(claimToken, "ClaimTokenDocumentNotAnchored")
        .withArgs(foreignRoot, tree.root);
    });

    it("refuses a batch root that was never anchored, even with a correct proof", async function () {
      const { claimToken, relayer, obligorKey, documentRoots, confirmationFor } = await loadFixture(deployClaimsFixture);
      const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");
      const unanchored = StandardMerkleTree.of(
        [[documentRoots[0]], [ethers.id("other")]],
        ["bytes32"],
      );
      const confirmation = await confirmationFor(0, { batchRoot: unanchored.root });
      const signature = await signConfirmation(obligorKey, claimToken, confirmation);

      await expect(claimToken.connect(relayer).confirm(confirmation, signature, unanchored.getProof(0)))
        .to.be.revertedWithCustomError(claimToken, "ClaimTokenDocumentNotAnchored")
        .withArgs(documentRoots[0], unanchored.root);
    });

    it("refuses a proof of another document", async function () {
      const { claimToken, relayer, obligorKey, tree, documentRoots, confirmationFor, proofFor } =
        await loadFixture(deployClaimsFixture);
      const confirmation = await confirmationFor(0);
      const signature = await signConfirmation(obligorKey, claimToken, confirmation);

      await expect(claimToken.connect(relayer).confirm(confirmation, signature, proofFor(1)))
        .to.be.revertedWithCustomError(claimToken, "ClaimTokenDocumentNotAnchored")
        .withArgs(documentRoots[0], tree.root);
    });

    it("refuses a seller that is not a permitted holder", async function () {
      const { claimToken, operator, relayer, obligorKey, outsider, seller, confirmationFor, proofFor } =
        await loadFixture(deployClaimsFixture);

      const unregistered = await confirmationFor(0, { seller: outsider.address });
      await expect(
        claimToken
          .connect(relayer)
          .confirm(unregistered, await signConfirmation(obligorKey, claimToken, unregistered), proofFor(0)),
      )
        .to.be.revertedWithCustomError(claimToken, "ClaimTokenHolderNotPermitted")
        .withArgs(outsider.address);

      await claimToken.connect(operator).setPartyPermitted(seller.address, false);
      const revoked = await confirmationFor(0);
      await expect(
        claimToken.connect(relayer).confirm(revoked, await signConfirmation(obligorKey, claimToken, revoked), proofFor(0)),
      )
        .to.be.revertedWithCustomError(claimToken, "ClaimTokenHolderNotPermitted")
        .withArgs(seller.address);
    });

    it("refuses a currency that is not listed", async function () {
      const { claimToken, operator, relayer, obligorKey, currency, outsider, confirmationFor, proofFor } =
        await loadFixture(deployClaimsFixture);
      await claimToken.connect(operator).delistCurrency(await currency.getAddress());

      for (const token of [await currency.getAddress(), outsider.address]) {
        const confirmation = await confirmationFor(0, { currency: token });
        const signature = await signConfirmation(obligorKey, claimToken, confirmation);
        await expect(claimToken.connect(relayer).confirm(confirmation, signature, proofFor(0)))
          .to.be.revertedWithCustomError(claimToken, "ClaimTokenCurrencyNotListed")
          .withArgs(token);
      }
    });

    it("refuses a face value of zero or beyond 96 bits, and a due date beyond 40 bits", async function () {
      const { claimToken, relayer, obligorKey, confirmationFor, proofFor } = await loadFixture(deployClaimsFixture);

      for (const [overrides, error, value] of [
        [{ faceValue: 0n }, "ClaimTokenInvalidFaceValue", 0n],
        [{ faceValue: 2n ** 96n }, "ClaimTokenInvalidFaceValue", 2n ** 96n],
        [{ dueDate: 2n ** 40n }, "ClaimTokenInvalidDueDate", 2n ** 40n],
      ]) {
        const confirmation = await confirmationFor(0, overrides);
        const signature = await signConfirmation(obligorKey, claimToken, confirmation);
        await expect(claimToken.connect(relayer).confirm(confirmation, signature, proofFor(0)))
          .to.be.revertedWithCustomError(claimToken, error)
          .withArgs(value);
      }
    });

    it("is refused while paused and accepted after the pause", async function () {
      const { claimToken, operator, relayer, obligorKey, confirmationFor, proofFor } =
        await loadFixture(deployClaimsFixture);
      const confirmation = await confirmationFor(0);
      const signature = await signConfirmation(obligorKey, claimToken, confirmation);

      await expect(claimToken.connect(operator).pause()).to.emit(claimToken, "Paused").withArgs(operator.address);
      await expect(
        claimToken.connect(relayer).confirm(confirmation, signature, proofFor(0)),
      ).to.be.revertedWithCustomError(claimToken, "EnforcedPause");

      await claimToken.connect(operator).unpause();
      await expect(claimToken.connect(relayer).confirm(confirmation, signature, proofFor(0))).to.emit(
        claimToken,
        "ClaimConfirmed",
      );
    });
  });

  describe("claim views", function () {
    it("return zeros for a claim that does not exist", async function () {
      const { claimToken, seller } = await loadFixture(confirmedClaimFixture);
      const unknown = BigInt(ethers.id("unknown"));

      expect(await claimToken.claimOf(unknown)).to.deep.equal([
        ethers.ZeroHash,
        ethers.ZeroAddress,
        ethers.ZeroAddress,
        ethers.ZeroAddress,
        0n,
        0n,
      ]);
      expect(await claimToken.claimState(unknown)).to.equal(ClaimState.Nonexistent);
      expect(await claimToken.redeemable(unknown, seller.address)).to.equal(0n);
      expect(await claimToken.settlementOf(unknown)).to.deep.equal([0n, 0n, 0n, 0n]);
    });
  });
});
