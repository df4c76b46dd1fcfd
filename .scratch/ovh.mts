import { benchOverhead } from '../bench/overhead.ts';
for (let i = 0; i < 2; i++) { const b = await benchOverhead({ pods: 60, ipMasq: false }); console.log(process.env.TAG, b.faultlineMsPerPod.toFixed(1), b.directMsPerPod.toFixed(1), b.ratio.toFixed(2)); }
