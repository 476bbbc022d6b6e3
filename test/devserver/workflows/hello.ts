import { proxyActivities } from '@temporalio/workflow';

export interface HelloActivities {
  greet(name: string): Promise<string>;
}

const { greet } = proxyActivities<HelloActivities>({ startToCloseTimeout: '10s' });

export async function hello(name: string): Promise<string> {
  return greet(name);
}
