// The labels every container and volume of a run carries: the reaper finds what a dead run left by them.
export const LABEL_RUN = 'io.faultline.run';
export const LABEL_CELL = 'io.faultline.cell';
export const LABEL_NODE = 'io.faultline.node';
