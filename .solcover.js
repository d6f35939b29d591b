// solidity-coverage settings (`npx hardhat coverage`): the test harnesses are not measured.
module.exports = {
  skipFiles: ["test/"],
};
