import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Some tests need a Debian package (a real rsyslog, Chromium). On a newcomer's machine without
 * it they are skipped with one line saying what to install; `.ci/run` installs the packages and
 * sets FINDINGS_ROUTER_REQUIRE_SYSTEM_PACKAGES=1, under which nothing is skipped, so a missing
 * package fails the run instead of hiding the tests.
 */
interface SystemNeed {
  /** The Debian package that provides it. */
  debianPackage: string;
  present: () => boolean;
}

const fileExists =
  (...paths: string[]) =>
  (): boolean =>
    paths.some((path) => existsSync(path));

const onPath = (command: string) => (): boolean => {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

const NEEDS = {
  rsyslog: { debianPackage: 'rsyslog', present: fileExists('/usr/sbin/rsyslogd', '/sbin/rsyslogd') },
  'rsyslog-gnutls': { debianPackage: 'rsyslog-gnutls', present: fileExists('/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so', '/usr/lib/rsyslog/lmnsd_gtls.so') },
  openssl: { debianPackage: 'openssl', present: onPath('openssl') },
  chromium: { debianPackage: 'chromium', present: fileExists('/usr/bin/chromium') },
  'cfn-lint': { debianPackage: 'cfn-lint', present: onPath('cfn-lint') },
} satisfies Record<string, SystemNeed>;

type SystemNeedName = keyof typeof NEEDS;

const REQUIRED = process.env.FINDINGS_ROUTER_REQUIRE_SYSTEM_PACKAGES === '1';

/**
 * True when the tests of `suite` must be skipped: some package is missing and this is not a run
 * that requires them. Prints the one line a newcomer needs.
 */
const skipWithoutSystemPackages = (suite: string, ...needs: SystemNeedName[]): boolean => {
  const missing = needs.filter((name) => !NEEDS[name].present()).map((name) => NEEDS[name].debianPackage);
  if (missing.length === 0 || REQUIRED) return false;
  console.warn(`${suite}: skipped, needs ${missing.join(', ')} (sudo apt-get install ${missing.join(' ')}); CI installs them and never skips`);
  return true;
};

export { skipWithoutSystemPackages };
