// Fields that only mean something inside a namespace the profile must also ask for. Each rule is
// stated the way crun states it ("hostname requires the uts namespace"), so a person sees both
// the field and the namespace to add.
import type { NamespaceType } from './types.js';
import type { ProfileErrorList } from './profile-error.js';

/** Records an error at `fieldPath` unless `namespace` is requested; returns whether it is. */
export function requireNamespace(errs: ProfileErrorList, namespaces: readonly NamespaceType[], namespace: NamespaceType,
  fieldPath: string, subject: string): boolean {
  if (namespaces.includes(namespace)) return true;
  const got = namespaces.length === 0 ? 'no namespaces' : `namespaces ${namespaces.join(', ')}`;
  errs.addDescribed(fieldPath, `"${namespace}" in namespaces`, got, `${subject} requires the ${namespace} namespace`);
  return false;
}
