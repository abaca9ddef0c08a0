/** A variable the deployment sets (serverless.yml): missing is a broken deployment, so the init fails and says which. */
const requireEnv = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`environment variable ${name} is required`);
  return value;
};

export { requireEnv };
