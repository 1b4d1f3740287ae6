/** The policy file as export writes it: the editor's schema line, then block YAML, one value per line. */
import { relative } from 'node:path';
import { Document } from 'yaml';
import type { PolicyDocument } from './model.js';
import { SCHEMA_PATH } from './policy-file.js';

/** The schema as a path relative to where the file is written (the caller's directory), as yaml-language-server resolves it. */
export const defaultSchemaRef = (fromDir: string) => relative(fromDir, SCHEMA_PATH).split('\\').join('/');

export function toYaml(policy: PolicyDocument, schemaRef: string): string {
  const doc = new Document(policy);
  doc.commentBefore = ` yaml-language-server: $schema=${schemaRef}`;
  // lineWidth 0: never fold a long description, so a change of one word is one changed line.
  return doc.toString({ lineWidth: 0, indentSeq: true });
}
