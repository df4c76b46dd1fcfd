// Reporters: optional hooks, fanned out by the runner (vitest style).
import type { CellReport, RunReport } from '../model/report.ts';

/** Optional hooks: a reporter implements only what it needs (vitest style). */
export interface Reporter {
  onRunStart?(info: { runId: string; outDir: string; cells: { id: string }[] }): void | Promise<void>;
  onCellStart?(cell: { id: string }): void | Promise<void>;
  onProgress?(cellId: string, message: string): void | Promise<void>;
  onCellEnd?(cell: CellReport): void | Promise<void>;
  /** File reporters write their whole document here and return the path they wrote. */
  onRunEnd?(report: RunReport): void | Promise<string | void>;
}
