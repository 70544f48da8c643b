export function ranks(values: number[]): number[];
export function pearson(x: number[], y: number[]): number;
export function spearman(x: number[], y: number[]): number;
export interface MembersTable {
  parameters: Record<string, number[]>;
  outcomes: Record<string, number[]>;
  errors: string[];
}
export function parseMembersCsv(text: string, scenarioNames: string[]): MembersTable;
export interface Band {
  times: number[];
  percentiles: Record<string, number[]>;
}
export function parseBandsCsv(text: string): Record<string, Record<string, Band>>;
