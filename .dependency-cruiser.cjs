// The layer rules of plumb's src/ (see README "Layout" and "Design notes"),
// checked by scripts/check-layers, which scripts/test runs first.
// Layers, lowest first: net/ (addresses, pure, on ip-address: everyone's one
// parser) · kernel/ (the only code that touches the kernel or the OS) · pure libraries (ipam/, firewall/, store/, cluster/, dns/, explain/) ·
// drivers/ · engine/ · cli/. Nothing imports from a layer above it.
const SRC = '^src/';
const OTHER_THAN = (...dirs) => `^src/(?!(${dirs.join('|')})/)`;

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'An import cycle anywhere in src/ (dynamic import() included) ties modules that should be layered.',
      severity: 'error',
      from: { path: SRC },
      to: { circular: true },
    },
    {
      name: 'os-only-in-kernel',
      comment: 'Processes (child_process) and the addon are reached only through src/kernel/.',
      severity: 'error',
      from: { path: OTHER_THAN('kernel') },
      to: { path: ['^(node:)?child_process$', '^src/kernel/native\\.ts$', '^native/', '\\.node$'] },
    },
    {
      name: 'net-is-the-floor',
      comment: 'src/net/ (addresses and prefixes) is pure and imports nothing else of src/: every layer may use it.',
      severity: 'error',
      from: { path: '^src/net/' },
      to: { path: OTHER_THAN('net') },
    },
    {
      name: 'kernel-is-the-bottom',
      comment: 'src/kernel/ imports nothing else of src/ but the address module.',
      severity: 'error',
      from: { path: '^src/kernel/' },
      to: { path: OTHER_THAN('kernel', 'net') },
    },
    {
      name: 'pure-libraries-stay-pure',
      comment: 'IPAM and the firewall rule model are pure: no kernel, no store, no engine (randomness is injected).',
      severity: 'error',
      from: { path: '^src/(ipam|firewall)/' },
      to: { path: OTHER_THAN('ipam', 'firewall', 'net') },
    },
    {
      name: 'libraries-below-drivers',
      comment: 'store/, cluster/, dns/, explain/ may use kernel/ and each other, never drivers/ (except their static traits), engine/ or cli/.',
      severity: 'error',
      from: { path: '^src/(store|cluster|dns|explain)/' },
      to: { path: ['^src/(engine|cli)/', '^src/drivers/(?!traits\\.ts$)'] },
    },
    {
      name: 'drivers-below-engine',
      comment: 'Drivers get the engine\'s services through DriverEnv, never by importing it.',
      severity: 'error',
      from: { path: '^src/drivers/' },
      to: { path: '^src/(engine|cli|dns|cluster|explain)/' },
    },
    {
      name: 'engine-below-cli',
      severity: 'error',
      from: { path: '^src/engine/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'cli-never-reaches-the-kernel',
      comment: 'What the CLI shows comes from engine queries (engine/system/queries.ts).',
      severity: 'error',
      from: { path: '^src/cli/' },
      to: { path: '^src/(kernel|drivers)/' },
    },
    {
      name: 'engine-core-is-the-base',
      comment: 'engine/core (context, transaction, intents, errors) uses no other use-case folder but the firewall backend it hands out.',
      severity: 'error',
      from: { path: '^src/engine/core/' },
      to: { path: '^src/engine/(?!core/|firewall/backend\\.ts$)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^node_modules/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
