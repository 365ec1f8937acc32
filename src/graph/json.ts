// Topology -> JSON, for anyone's own tools: the model as it is, versioned.
import type { Topology } from '../topology/model.js';

export const TOPOLOGY_JSON_VERSION = 1;

export function renderJson(t: Topology): string {
  return JSON.stringify({ version: TOPOLOGY_JSON_VERSION, ...t }, null, 2) + '\n';
}
