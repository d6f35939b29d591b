// solidity-coverage settings (`npx hardhat coverage`): the test harnesses are not measured;
// the json-summary report feeds scripts/check-coverage.js, which `make coverage` runs.
module.exports = {
  skipFiles: ["test/"],
  istanbulReporter: ["text", "json-summary"],
};
