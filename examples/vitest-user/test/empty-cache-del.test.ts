import { describeScenario } from 'faultline/vitest';

describeScenario('scenarios/empty-cache-del.yaml');
