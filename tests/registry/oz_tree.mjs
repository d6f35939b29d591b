// Reads {"roots": ["0x..", ...]} on stdin and prints the OpenZeppelin
// StandardMerkleTree (leaf encoding ["bytes32"]) root and each root's proof,
// in the order given, so tests can compare them with registry.merkle.
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const { roots } = JSON.parse(input);
  const tree = StandardMerkleTree.of(
    roots.map((root) => [root]),
    ["bytes32"],
  );
  const proofs = roots.map((root) => tree.getProof([root]));
  process.stdout.write(JSON.stringify({ root: tree.root, proofs }));
});
