import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';

/** A stack's outputs (DescribeStacks), or undefined when there is no such stack in the account and region. */
const stackOutputs = async (stackName: string, region: string | undefined): Promise<Record<string, string> | undefined> => {
  try {
    const { Stacks } = await new CloudFormationClient(region ? { region } : {}).send(new DescribeStacksCommand({ StackName: stackName }));
    return Object.fromEntries((Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
  } catch (error) {
    if ((error as Error).name === 'ValidationError' && /does not exist/.test((error as Error).message)) return undefined;
    throw error;
  }
};

export { stackOutputs };
