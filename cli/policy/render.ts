/** How a plan reads: one line per change (`+` create, `~` update, `-` delete), then its fields. */
import type { Change, FieldChange, Plan } from './plan.js';

const SIGN = { create: '+', update: '~', delete: '-' } as const;

export const changeLabel = (c: Change) => `${SIGN[c.op]} ${c.kind} ${c.kind === 'tenant' ? c.tenant : `${c.tenant}/${c.name}`}`;

export function renderPlan(plan: Plan): string {
  const lines: string[] = [];
  for (const c of plan.changes) {
    lines.push(changeLabel(c));
    const fields = c.op === 'create' ? createdFields(c) : c.fields;
    for (const f of fields) lines.push(`    ${renderField(f)}`);
  }
  if (plan.changes.length > 0) lines.push('');
  lines.push(summary(plan));
  if (plan.kept.length > 0) {
    lines.push(`Not in the file, kept (apply --prune deletes them): ${plan.kept.map((k) => `${k.kind} ${k.tenant}/${k.name}`).join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}

function summary(plan: Plan): string {
  if (plan.changes.length === 0) return 'No changes: the API holds what the file says.';
  const count = (op: Change['op']) => plan.changes.filter((c) => c.op === op).length;
  return `Plan: ${count('create')} to create, ${count('update')} to update, ${count('delete')} to delete.`;
}

/** What a create sets: its request body (never a secret), without the field its label names it by. */
const NAMED_BY: Record<Change['kind'], string> = { tenant: 'slug', role: 'name', user: '', client: 'client_name' };
const createdFields = (c: Change): FieldChange[] => [
  ...c.fields,
  ...Object.entries((c.body ?? {}) as Record<string, unknown>)
    .filter(([field]) => field !== NAMED_BY[c.kind])
    .map(([field, after]) => ({ field, before: undefined, after })),
];

function renderField({ field, before, after }: FieldChange): string {
  if (Array.isArray(after) && (before === undefined || Array.isArray(before))) {
    const was = new Set((before as string[] | undefined) ?? []);
    const now = new Set(after as string[]);
    if (before === undefined) return `${field}: ${after.length === 0 ? '(none)' : after.join(', ')}`;
    const added = [...now].filter((v) => !was.has(v)).map((v) => `+ ${v}`);
    const removed = [...was].filter((v) => !now.has(v)).map((v) => `- ${v}`);
    return `${field}: ${[...added, ...removed].join(', ')}`;
  }
  return before === undefined ? `${field}: ${JSON.stringify(after)}` : `${field}: ${JSON.stringify(before)} → ${JSON.stringify(after)}`;
}
