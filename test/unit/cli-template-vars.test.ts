// The template forms Docker courses use beyond plain fields: variables,
// `range $k, $v`, parenthesised pipelines, `$` for the root, and Docker's
// functions. Expected outputs are what Go's text/template prints for the
// same data (fmt's %v for maps, Go's map order for range).
import { describe, expect, it } from 'vitest';
import { exposedPorts } from '../../src/cli/commands/inspect.js';
import { goJson } from '../../src/cli/format/json.js';
import { renderFormat, renderTemplate, TemplateError } from '../../src/cli/format/template.js';

const container = {
  Name: '/web',
  Config: { Hostname: 'abc123', ExposedPorts: exposedPorts({ expose: [{ port: 80, proto: 'tcp' }], publish: [{ proto: 'udp', containerPort: 53, hostIp: '', hostPortStart: 53, hostPortEnd: 53 }] }) },
  NetworkSettings: {
    Networks: {
      'my-bridge': { IPAddress: '192.168.0.2', Aliases: ['web', 'www'] },
      bridge: { IPAddress: '172.17.0.2', Aliases: null },
    },
  },
  List: ['x', 'y'],
};

const t = (format: string) => renderTemplate(format, container);

describe('parenthesised pipelines', () => {
  it('read a field of an index result, the classic IP lookup', () => {
    expect(t('{{(index .NetworkSettings.Networks "my-bridge").IPAddress}}')).toBe('192.168.0.2\n');
  });
  it('pass a result as an argument', () => {
    expect(t('{{upper (join .List ",")}}')).toBe('X,Y\n');
    expect(t('{{len (index .NetworkSettings.Networks "my-bridge").Aliases}}')).toBe('2\n');
  });
  it('nest', () => {
    expect(t('{{join (index (index .NetworkSettings.Networks "my-bridge") "Aliases") "+"}}')).toBe('web+www\n');
  });
  it('an unclosed one is a parse error', () => {
    expect(() => t('{{(index .List 0}}')).toThrow(TemplateError);
    expect(() => t('{{index .List 0)}}')).toThrow(/unexpected right paren/);
  });
});

describe('variables', () => {
  it('range $k, $v walks a map in key order', () => {
    expect(t('{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} {{end}}')).toBe('bridge=172.17.0.2 my-bridge=192.168.0.2 \n');
  });
  it('range $i, $e gives the index and the element; range $e the element', () => {
    expect(t('{{range $i, $e := .List}}{{$i}}:{{$e}},{{end}}')).toBe('0:x,1:y,\n');
    expect(t('{{range $e := .List}}[{{$e}}]{{end}}')).toBe('[x][y]\n');
  });
  it('a declared variable reaches into with and range; $ is the root', () => {
    expect(t('{{$n := .Name}}{{with .Config}}{{$n}} {{.Hostname}}{{end}}')).toBe('/web abc123\n');
    expect(t('{{range .List}}{{$.Name}}{{.}} {{end}}')).toBe('/webx /weby \n');
  });
  it('a declaration prints nothing; assignment changes the value', () => {
    expect(t('{{$x := "a"}}{{$x = "b"}}{{$x}}')).toBe('b\n');
  });
  it('with $v := binds the value', () => {
    expect(t('{{with $c := .Config}}{{$c.Hostname}}{{end}}')).toBe('abc123\n');
  });
  it('a variable is gone after its block ends, and an unknown one is refused', () => {
    expect(() => t('{{range $e := .List}}{{end}}{{$e}}')).toThrow(/undefined variable "\$e"/);
    expect(() => t('{{$nope}}')).toThrow(/undefined variable "\$nope"/);
  });
  it('works in --format rows too', () => {
    expect(renderFormat('{{$n := .Name}}{{$n}}-{{.ID}}', [{ Name: 'a', ID: '1' }, { Name: 'b', ID: '2' }])).toBe('a-1\nb-2\n');
  });
});

describe('Config.ExposedPorts', () => {
  it('prints as Go prints a map of empty structs', () => {
    expect(t('{{.Config.ExposedPorts}}')).toBe('map[53/udp:{} 80/tcp:{}]\n');
    expect(t('{{json .Config.ExposedPorts}}')).toBe('{"53/udp":{},"80/tcp":{}}\n');
    expect(t('{{range $p, $conf := .Config.ExposedPorts}}{{$p}} {{end}}')).toBe('53/udp 80/tcp \n');
  });
  it('is left out when nothing is exposed (omitempty)', () => {
    expect(exposedPorts({ expose: [], publish: [] })).toBeUndefined();
    expect(goJson({ ExposedPorts: exposedPorts({ expose: [], publish: [] }) })).toBe('{}');
  });
});

describe("Docker's functions", () => {
  it('json, join, upper, lower, title, split, len, println', () => {
    expect(t('{{json .List}}')).toBe('["x","y"]\n');
    expect(t('{{lower "AbC"}} {{title "hello world"}} {{len .List}}')).toBe('abc Hello World 2\n');
    expect(t('{{index (split "a:b" ":") 1}}')).toBe('b\n');
    expect(t('{{println .Name}}')).toBe('/web\n\n');
  });
});

describe('--format json', () => {
  it('prints each row as one line of JSON with its keys in Go map order, methods left out', () => {
    const rows = [{ Name: 'b', ID: '2', Label: () => '' }, { Name: 'a', ID: '1', Label: () => '' }];
    expect(renderFormat('json', rows)).toBe('{"ID":"2","Name":"b"}\n{"ID":"1","Name":"a"}\n');
    expect(renderFormat(' json ', [])).toBe('');
  });
  it('inspect --format json is {{json .}}', () => {
    expect(renderTemplate('json', { B: 1, A: [1] })).toBe('{"B":1,"A":[1]}\n');
  });
  it('the word json inside a template is still a function', () => {
    expect(renderFormat('{{json .Name}}', [{ Name: 'x' }])).toBe('"x"\n');
  });
});
