// Hardhat 2 configuration for the receivables registry contracts.
//
// Builds offline: the compiler is the npm `solc` package (WebAssembly), never a download.
// The EVM version is pinned to `cancun` because the in-process py-evm used by the Python
// side knows no fork after Prague, and both sides must produce the same bytecode.

const { subtask } = require("hardhat/config");
const { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } = require("hardhat/builtin-tasks/task-names");

require("@nomicfoundation/hardhat-chai-matchers");
require("@nomicfoundation/hardhat-ethers");
require("solidity-coverage");

const SOLC_VERSION = "0.8.30";

// Hardhat downloads the requested compiler unless this subtask answers first. Only the pinned
// version exists offline, so any other request fails loudly instead of reaching the network.
subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async ({ solcVersion }) => {
  if (solcVersion !== SOLC_VERSION) {
    throw new Error(`only solc ${SOLC_VERSION} is available offline (npm "solc"); a source asked for ${solcVersion}`);
  }

  // NOTE: required lazily: loading soljson costs about a second and most tasks never compile.
  const solc = require("solc");
  const packageVersion = solc.version(); // e.g. "0.8.30+commit.73712a01.Emscripten.clang"
  if (!packageVersion.startsWith(`${SOLC_VERSION}+`)) {
    throw new Error(`npm "solc" is ${packageVersion}, expected ${SOLC_VERSION}: reinstall from package-lock.json`);
  }

  return {
    compilerPath: require.resolve("solc/soljson.js"),
    isSolcJs: true,
    version: SOLC_VERSION,
    // The platform suffix is dropped so build info records "0.8.30+commit.73712a01", the form
    // native builds and source verifiers use.
    longVersion: packageVersion.replace(/\.Emscripten\.clang$/, ""),
  };
});

const networks = {
  hardhat: { chainId: 31337 },
};
if (process.env.RPC_URL) {
  networks.localhost = { url: process.env.RPC_URL };
}

/** @type {import("hardhat/config").HardhatUserConfig} */
module.exports = {
  solidity: {
    version: SOLC_VERSION,
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: "cancun",
      viaIR: false,
    },
  },
  networks,
  paths: {
    sources: "./contracts",
    tests: "./tests/contracts",
    cache: "./cache/hardhat",
    artifacts: "./artifacts",
  },
};
