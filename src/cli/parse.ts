// The command line (argv) over the environment -> a validated CommandLine, driven only by the
// option table (config/options.ts). Pure: no I/O and no process.exit; every problem is a
// UsageError whose message names the option and the accepted form.
import { BY_SPELLING, suggestion, type Env, type ValueOption } from '../config/options.js';
import { Settings, UsageError, defaults, missingValue, type CommandLine } from '../config/resolve.js';

type Action = CommandLine['action'];

export function parseCommandLine(argv: readonly string[], env: Env): CommandLine {
  const requested = requestedAction(argv);
  if (requested !== 'serve') return actionOnly(requested, env);

  const settings = Settings.fromEnvironment(env);
  const { action, app } = readArgv(argv, settings);
  if (action !== 'serve') return actionOnly(action, env); // bundled: -qh

  if (app !== undefined && settings.explicit.has('eval')) {
    const evalName = settings.source('eval');
    throw new UsageError(`${evalName} and an APP argument (${JSON.stringify(app)}) cannot be used together`);
  }
  const { minReqsPerChild: min, maxReqsPerChild: max } = settings.options;
  if (min !== undefined && min > max) {
    throw new UsageError(
      `${settings.source('minReqsPerChild')}=${min} is greater than ${settings.source('maxReqsPerChild')}=${max}`,
    );
  }
  return { action, options: settings.options, explicit: settings.explicit, app };
}

/** `--help` or `--version` anywhere before `--` wins over everything else, errors included. */
function requestedAction(argv: readonly string[]): Action {
  const end = argv.indexOf('--');
  return argv.slice(0, end < 0 ? undefined : end).reduce<Action>((action, arg) => {
    const spec = BY_SPELLING.get(arg);
    return spec?.kind === 'action' ? stronger(action, spec.action) : action;
  }, 'serve');
}

function actionOnly(action: Action, env: Env): CommandLine {
  return { action, options: defaults(env), explicit: new Set(), app: undefined };
}

function stronger(a: Action, b: Action): Action {
  return a === 'help' || b === 'help' ? 'help' : b;
}

function readArgv(argv: readonly string[], settings: Settings): { action: Action; app: string | undefined } {
  let action: Action = 'serve';
  let app: string | undefined;
  let index = 0;

  /** The value of a value option written without one: the next argument, unless it is an option. */
  const nextValue = (spec: ValueOption, name: string): string => {
    const next = argv[index];
    if (next === undefined || (next.startsWith('-') && next !== '-')) throw missingValue(spec, name);
    index += 1;
    return next;
  };

  const positional = (arg: string): void => {
    if (app !== undefined) {
      const [first, second] = [app, arg].map((name) => JSON.stringify(name));
      throw new UsageError(`unexpected argument ${second}: only one APP may be given (already ${first})`);
    }
    app = arg;
  };

  while (index < argv.length) {
    const arg = argv[index++]!;
    if (arg === '--') {
      argv.slice(index).forEach(positional);
      break;
    }
    if (arg.startsWith('--')) {
      const equals = arg.indexOf('=');
      const name = equals < 0 ? arg : arg.slice(0, equals);
      const inline = equals < 0 ? undefined : arg.slice(equals + 1);
      const spec = BY_SPELLING.get(name);
      if (spec === undefined) {
        const negated = name.startsWith('--no-') ? BY_SPELLING.get(`--${name.slice(5)}`) : undefined;
        if (negated === undefined) throw unknownOption(name);
        if (negated.kind === 'action' || !negated.type.flag) {
          throw new UsageError(`${name}: only on/off options have a --no- form, and --${negated.name} is not one`);
        }
        if (inline !== undefined) throw new UsageError(`${name} takes no value`);
        settings.set(negated, 'argv', name, false);
      } else if (spec.kind === 'action') {
        if (inline !== undefined) throw new UsageError(`${name} takes no value`);
        action = stronger(action, spec.action);
      } else {
        settings.set(spec, 'argv', name, inline ?? (spec.type.flag ? true : nextValue(spec, name)));
      }
    } else if (arg.startsWith('-') && arg !== '-') {
      // `-port 80` is a long option with one dash, not `-p ort`
      const written = arg.split('=')[0]!;
      if (written.length > 2 && BY_SPELLING.has(`-${written}`)) throw unknownOption(written, `-${written}`);
      // -p8080, -p=8080, -p 8080; on/off options bundle: -qD, -qp 8080
      for (let at = 1; at < arg.length; at++) {
        const name = `-${arg[at]}`;
        const spec = BY_SPELLING.get(name);
        if (spec === undefined) throw unknownOption(name);
        const rest = arg.slice(at + 1);
        if (spec.kind === 'action') {
          action = stronger(action, spec.action);
        } else if (spec.type.flag) {
          if (rest.startsWith('=')) throw new UsageError(`${name} takes no value (write --${spec.name}=0|1)`);
          settings.set(spec, 'argv', name, true);
        } else {
          settings.set(spec, 'argv', name, rest === '' ? nextValue(spec, name) : rest.replace(/^=/, ''));
          break;
        }
      }
    } else {
      positional(arg);
    }
  }
  return { action, app };
}

function unknownOption(name: string, guess = suggestion(name)): UsageError {
  return new UsageError(`unknown option ${name}${guess === undefined ? '' : ` (did you mean ${guess}?)`}`);
}

