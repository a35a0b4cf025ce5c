// A shrunk profile shown as YAML, the format `nsrig run` reads, so a reader can save it and
// run it. Short lists and small id-map records go on one line; pretty JSON of the same profile
// is three times as tall and hides the one field that matters.
import { Document, isScalar, visit } from 'yaml';

export function profileAsYaml(profile: unknown): string {
  const doc = new Document(profile);
  visit(doc, {
    Seq(_key, node) {
      if (node.items.every((item) => isScalar(item))) node.flow = true;
    },
    Map(_key, node) {
      if (node !== doc.contents && node.items.length <= 4 && node.items.every((pair) => isScalar(pair.value))) node.flow = true;
    },
  });
  return doc.toString({ lineWidth: 100, flowCollectionPadding: false });
}
