// What the engine hands a driver: the operation's kernel handles, its
// randomness, and (for overlay networks) the cluster store as OverlayServices,
// loaded only when a driver asks for it.
import type { DriverEnv, OverlayServices } from '../../drivers/types.js';
import type { Context } from '../core/context.js';

const envs = new WeakMap<Context, DriverEnv>();

export function driverEnv(ctx: Context): DriverEnv {
  let env = envs.get(ctx);
  if (env) return env;
  let overlay: Promise<OverlayServices> | undefined;
  env = {
    journal: ctx.journal,
    get dryRun() {
      return ctx.dryRun;
    },
    random: ctx.random,
    hostNs: () => ctx.hostNs(),
    hostRtnl: () => ctx.hostRtnl(),
    rtnlIn: (ns) => ctx.rtnlIn(ns),
    adopt: (ns) => ctx.adopt(ns),
    overlay: () => (overlay ??= import('../overlay/services.js').then((m) => m.overlayServices(ctx))),
  };
  envs.set(ctx, env);
  return env;
}
