import {describe, expect, it} from 'vitest'
import {compileTemplate, sprintf, TemplateError} from '../../src/cli/gotemplate.js'
import {formatResources} from '../../src/cli/output/index.js'
import {list, step, stored} from './output-helpers.js'

const run = (src: string, data: unknown = {}): string => compileTemplate(src).execute(data)

describe('go-template output (calicoctl-cases.yaml output-formats)', () => {
  it('ranges over the result slice with Go field names', async () => {
    const args = "get globalnetworkset net-set1 -o 'go-template={{range .}}{{.ObjectMeta.Name}}{{end}}'"
    const out = await formatResources([stored('globalnetworkset_name1_rev1')], 'go-template={{range .}}{{.ObjectMeta.Name}}{{end}}')
    expect(out).toBe(step('output-formats', args).expect?.output_equals)
  })

  it('exposes lists as .Items and offers join, joinAndTruncate and config', async () => {
    const nodes = list('Node', [stored('node_name1_rev1')])
    const tmpl = 'go-template={{range .}}{{.Kind}}:{{range .Items}}{{.Name}} {{.Spec.BGP.IPv4Address}} ({{config "asnumber"}}){{end}}{{end}}'
    const out = await formatResources([nodes], tmpl, {getDefaultBGPConfiguration: async () => undefined})
    expect(out).toBe('NodeList:node1 1.2.3.4/24 (64512)')
    const gns = await formatResources([stored('globalnetworkset_name1_rev1')],
      'go-template={{range .}}{{join .Spec.Nets ";"}}|{{joinAndTruncate .Spec.Nets "," 15}}{{end}}')
    expect(gns).toBe('10.0.0.1;11.0.0.0/16;feed:beef::1;dead:beef::96|10.0.0.1,11....')
  })

  it('sees Go zero values for unset fields and <nil> for nil pointers', async () => {
    const pool = {apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {name: 'p'}, spec: {cidr: '10.0.0.0/8'}}
    const out = await formatResources([pool], 'go-template={{range .}}{{.Spec.NATOutgoing}} {{.Spec.AssignmentMode}} [{{.Spec.IPIPMode}}]{{end}}')
    expect(out).toBe('false <nil> []')
  })

  it('reports an unreadable template file as Go does', async () => {
    await expect(formatResources([], 'go-template-file=/nonexistent/t.tmpl')).rejects.toThrow('open /nonexistent/t.tmpl: no such file or directory')
  })

  it('prints spec.order as a Go float64', async () => {
    const tiers = list('Tier', [
      {apiVersion: 'projectcalico.org/v3', kind: 'Tier', metadata: {name: 'default'}, spec: {order: 1000000}},
      {apiVersion: 'projectcalico.org/v3', kind: 'Tier', metadata: {name: 'kube-admin'}, spec: {order: 1000}},
      {apiVersion: 'projectcalico.org/v3', kind: 'Tier', metadata: {name: 'last'}, spec: {}},
    ])
    const out = await formatResources([tiers], 'go-template={{range .}}{{range .Items}}{{.Name}}={{.Spec.Order}};{{end}}{{end}}')
    expect(out).toBe('kube-admin=1000;default=1e+06;last=<nil>;')
  })

  it('reads go-template-file through the supplied reader', async () => {
    const out = await formatResources([stored('globalnetworkset_name1_rev1')], 'go-template-file=/t.tmpl', {
      readTemplateFile: async (p) => (p === '/t.tmpl' ? '{{range .}}{{.ObjectMeta.Name}}{{"\\n"}}{{end}}' : ''),
    })
    expect(out).toBe('net-set1\n')
  })
})

describe('text/template subset', () => {
  const data = {
    Name: 'web', Count: 3, Zero: 0, Empty: '', Nil: null, List: ['a', 'b', 'c'], None: [],
    Map: {z: 1, a: 2}, Nested: {Inner: {Value: 'deep'}}, Ok: true,
  }

  it.each([
    ['plain {{.Name}} text', 'plain web text'],
    ['{{.Missing}}|{{.Nil}}', '<no value>|<nil>'],
    ['{{.Nested.Inner.Value}}', 'deep'],
    ['{{.Missing.Deeper}}', '<no value>'],
    ['{{.List}} {{.Map}}', '[a b c] map[a:2 z:1]'],
    ['{{if .Ok}}yes{{else}}no{{end}}', 'yes'],
    ['{{if .Zero}}a{{else if .Empty}}b{{else if .List}}c{{else}}d{{end}}', 'c'],
    ['{{if .None}}x{{else}}empty{{end}}', 'empty'],
    ['{{with .Nested.Inner}}{{.Value}}{{end}}', 'deep'],
    ['{{with .Empty}}x{{else with .Name}}{{.}}{{else}}none{{end}}', 'web'],
    ['{{range .List}}[{{.}}]{{end}}', '[a][b][c]'],
    ['{{range $i, $e := .List}}{{$i}}={{$e}} {{end}}', '0=a 1=b 2=c '],
    ['{{range $k, $v := .Map}}{{$k}}{{$v}}{{end}}', 'a2z1'],
    ['{{range .None}}x{{else}}nothing{{end}}', 'nothing'],
    ['{{range .List}}{{if eq . "b"}}{{continue}}{{end}}{{.}}{{end}}', 'ac'],
    ['{{range .List}}{{if eq . "b"}}{{break}}{{end}}{{.}}{{end}}', 'a'],
    ['{{range 3}}{{.}}{{end}}', '012'],
    ['{{$x := .Name}}{{$x}}-{{$.Count}}', 'web-3'],
    ['{{$x := 1}}{{if .Ok}}{{$x = 2}}{{end}}{{$x}}', '2'],
    ['{{range .List}}{{$.Name}}{{end}}', 'webwebweb'],
    ['a  {{- .Name -}}  b', 'awebb'],
    ['a {{- /* comment */ -}} b', 'ab'],
    ['{{/* nothing */}}x', 'x'],
    ['{{.Name | printf "%q"}}', '"web"'],
    ['{{"abc" | len}} {{len .List}} {{len .Map}} {{len .Nil}}', '3 3 2 0'],
    ['{{index .Nil "k"}}', '<no value>'],
    ['{{index .List 1}} {{index .Map "z"}} {{index .Nested "Inner" "Value"}}', 'b 1 deep'],
    ['{{slice .List 1}} {{slice "hello" 1 3}}', '[b c] el'],
    ['{{and .Ok .Name}} {{and .Zero .Name}} {{or .Empty .Name}} {{or .Zero .Empty}}', 'web 0 web '],
    ['{{and .Zero (index .List 9)}}', '0'],
    ['{{not .Ok}} {{not .Empty}}', 'false true'],
    ['{{eq .Name "x" "web"}} {{ne .Count 3}} {{lt .Count 4}} {{le 3 3}} {{gt "b" "a"}} {{ge 1.5 2.5}}', 'true false true true true false'],
    ['{{eq .Missing .Nil}} {{eq .Nil .Name}}', 'true false'],
    ['{{print "a" 1 2 "b"}} {{println "x" 1}}', 'a1 2b x 1\n'],
    ['{{1e6}} {{1.5}} {{0x10}} {{-2}} {{\'a\'}} {{true}}', '1e+06 1.5 16 -2 97 true'],
    ['{{`raw\\n`}}{{"esc\\t"}}', 'raw\\nesc\t'],
    ['{{(index .List 0)}}{{(.Nested).Inner.Value}}', 'adeep'],
  ])('%s', (src, want) => {
    expect(run(src, data)).toBe(want)
  })

  it('formats printf verbs like fmt', () => {
    expect(sprintf('%d|%5d|%-5s|%05.2f|%x|%X|%o|%q|%v|%t|%%|%s', 42, 7, 'ab', 3.14159, 255, 255, 8, 'hi', [1, 2], true, 'x'))
      .toBe('42|    7|ab   |03.14|ff|FF|10|"hi"|[1 2]|true|%|x')
    expect(sprintf('%e %g %.3g %c', 1234.5678, 1e21, 3.14159, 65)).toBe('1.234568e+03 1e+21 3.14 A')
    expect(sprintf('%d %s', 'str')).toBe('%!d(string=str) %!s(MISSING)')
    expect(sprintf('%d', 1, 'x')).toBe('1%!(EXTRA string=x)')
    expect(sprintf('%+d % d %8.3f|', 5, 5, -1.5)).toBe('+5  5   -1.500|')
  })

  it.each([
    ['{{.Name', 'template: get:1:0: unclosed action'],
    ['line1\n{{foo .}}', 'template: get:2:2: function "foo" not defined'],
    ['{{end}}', 'template: get:1:2: unexpected {{end}}'],
    ['{{if .Ok}}x', 'template: get:1:2: unexpected EOF: {{if}} has no {{end}}'],
    ['{{range .List}}{{else if .Ok}}{{end}}', 'template: get:1:22: unexpected if in else'],
    ['{{break}}', 'template: get:1:2: {{break}} outside {{range}}'],
    ['{{range .List}}{{else}}{{continue}}{{end}}', 'template: get:1:25: {{continue}} outside {{range}}'],
    ['{{"abc}}', 'template: get:1:0: unclosed action'],
    ['{{.Name |}}', 'template: get:1:8: missing command after |'],
    ['{{(.Name}}', 'template: get:1:2: unclosed left paren'],
    ['{{template "x"}}', 'template: get:1:2: {{template}} is not supported'],
    ['{{3x}}', 'template: get:1:2: bad number syntax: "3x"'],
  ])('rejects %j at parse time with its position', (src, msg) => {
    expect(() => compileTemplate(src)).toThrow(new TemplateError(msg))
  })

  it.each([
    ['{{.Name.Field}}', 'template: get:1:2: executing "get" at <.Name.Field>: can\'t evaluate field Field in type string'],
    ['{{$y}}', 'template: get:1:2: executing "get" at <$y>: undefined variable: $y'],
    ['{{index .List 7}}', 'template: get:1:2: executing "get" at <index .List 7>: error calling index: index out of range: 7'],
    ['{{lt .Name 1}}', 'template: get:1:2: executing "get" at <lt .Name 1>: error calling lt: invalid type for comparison'],
    ['{{len .Count}}', 'template: get:1:2: executing "get" at <len .Count>: error calling len: len of type int'],
    ['{{.Name 1}}', 'template: get:1:2: executing "get" at <.Name 1>: can\'t give argument to non-function .Name'],
  ])('reports %j at execution time', (src, msg) => {
    expect(() => run(src, data)).toThrow(new TemplateError(msg))
  })

  it('rejects config names other than asnumber', async () => {
    await expect(formatResources([stored('globalnetworkset_name1_rev1')], 'go-template={{config "foo"}}'))
      .rejects.toThrow('error calling config: unhandled config type')
  })
})
