// `-o go-template` as calicoctl runs it, through google/safetext's yamltemplate: output whose YAML structure the
// data changes is refused with "YAML Injection Detected", and a template whose output is not YAML at all with
// "Invalid YAML Template". Expectations follow safetext's algorithm (yamltemplate.Execute, common.applyPipeCmds).
import {describe, expect, it} from 'vitest'
import {TemplateError} from '../../src/cli/gotemplate.js'
import {formatResources} from '../../src/cli/output/index.js'
import {compileYAMLTemplate, INVALID_YAML_TEMPLATE, mutateString, YAML_INJECTION} from '../../src/cli/yamltemplate.js'
import {list, stored} from './output-helpers.js'

const run = (src: string, data: unknown): string => compileYAMLTemplate(src).execute(data)
const refusal = (msg: string): TemplateError => new TemplateError(msg)

describe('safetext yamltemplate checks', () => {
  it('prints data that only fills in scalars', () => {
    expect(run('{{range .}}{{.Name}} {{end}}', [{Name: 'web'}, {Name: 'db'}])).toBe('web db ')
    expect(run('name: {{.Name}}\ncidr: {{.CIDR}}\nsize: {{.Size}}\n', {Name: 'p', CIDR: '10.0.0.0/8', Size: 26})).toBe('name: p\ncidr: 10.0.0.0/8\nsize: 26\n')
    // A value may change scalar type where the baseline had a string (safetext only forbids new collections there).
    expect(run('v: {{.V}}', {V: 'true'})).toBe('v: true')
    expect(run('items:\n{{range .}}- {{.}}\n{{end}}', ['a', 'b'])).toBe('items:\n- a\n- b\n')
  })

  it('refuses data that adds structure', () => {
    expect(() => run('name: {{.Name}}', {Name: 'a: b'})).toThrow(refusal(YAML_INJECTION))
    expect(() => run('name: {{.Name}}', {Name: '[x, y]'})).toThrow(refusal(YAML_INJECTION))
    expect(() => run('items:\n{{range .}}- {{.}}\n{{end}}', ['a\n- b'])).toThrow(refusal(YAML_INJECTION))
    // Output that no longer parses is injection too.
    expect(() => run('name: {{.Name}}', {Name: '"unterminated'})).toThrow(refusal(YAML_INJECTION))
  })

  it('refuses data used as a mapping key, and an empty string where the baseline printed text', () => {
    // One item: the key is `baseline` in the baseline run and the data in the real one.
    expect(() => run('{{range .}}{{.Name}}: {{.CIDR}}\n{{end}}', [{Name: 'p', CIDR: '10.0.0.0/8'}])).toThrow(refusal(YAML_INJECTION))
    // Two items: the baseline repeats the key `baseline`, which is not valid YAML: the template is refused.
    expect(() => run('{{range .}}{{.Name}}: {{.CIDR}}\n{{end}}', [{Name: 'p', CIDR: 'a'}, {Name: 'q', CIDR: 'b'}])).toThrow(refusal(INVALID_YAML_TEMPLATE))
    // "" prints nothing (no YAML document) where the baseline printed one.
    expect(() => run('{{.Namespace}}', {Namespace: ''})).toThrow(refusal(YAML_INJECTION))
  })

  it('refuses a template whose own text is not YAML', () => {
    expect(() => run('{{.Name}}: [', {Name: 'x'})).toThrow(refusal(INVALID_YAML_TEMPLATE))
    expect(() => run('a: b: {{.Name}}', {Name: 'x'})).toThrow(refusal(INVALID_YAML_TEMPLATE))
  })

  it('maps only what output actions print: not conditions, declarations or function heads', () => {
    // `if` and `range` pipelines see the real data, so the branch taken is the same in every run.
    expect(run('{{if eq .Kind "a"}}k: {{.Name}}{{else}}other{{end}}', {Kind: 'a', Name: 'x'})).toBe('k: x')
    // A variable holds the real value; printing it maps it.
    expect(run('{{$n := .Name}}n: {{$n}}', {Name: 'x'})).toBe('n: x')
    expect(() => run('{{$n := .Name}}n: {{$n}}', {Name: 'a: b'})).toThrow(refusal(YAML_INJECTION))
    // Function arguments and parenthesized pipelines are mapped too.
    expect(() => run('n: {{printf "%s" (print .Name)}}', {Name: 'a: b'})).toThrow(refusal(YAML_INJECTION))
    expect(run('n: {{len .Name}}', {Name: 'a: b'})).toBe('n: 4')
  })

  it('leaves arguments of StructuralData alone, so a template can print YAML held in the data', () => {
    expect(run('{{StructuralData .Snippet}}', {Snippet: 'a: b\nc: [d]'})).toBe('a: b\nc: [d]')
    expect(() => run('{{.Snippet}}', {Snippet: 'a: b\nc: [d]'})).toThrow(refusal(YAML_INJECTION))
  })

  it('doubles every character but quotes and backslashes in the mutation run', () => {
    expect(mutateString(`a-b 'c' "d" \\e`)).toBe(`aa--bb  'cc'  "dd"  \\ee`)
    expect(mutateString('ü')).toBe('üü')
  })

  it('resolves scalars as yaml.v3 does into interface{}: a number where the baseline has a number must stay one', () => {
    // The baseline keeps non-string data: 26 is an int in all three runs.
    expect(run('size: {{.Size}}', {Size: 26})).toBe('size: 26')
    // Here the template's text decides the type: `1{{.S}}` is `1baseline` (a string) in the baseline run.
    expect(run('v: 1{{.S}}', {S: '.5'})).toBe('v: 1.5')
  })
})

describe('calicoctl get -o go-template', () => {
  it('refuses a resource whose data would restructure the output', async () => {
    const gns = stored('globalnetworkset_name1_rev1')
    const ok = await formatResources([gns], 'go-template={{range .}}name: {{.ObjectMeta.Name}}{{end}}')
    expect(ok).toBe('name: net-set1')
    const labelled = {...gns, metadata: {...gns.metadata, labels: {note: 'x: y'}}}
    await expect(formatResources([labelled], 'go-template={{range .}}note: {{index .ObjectMeta.Labels "note"}}{{end}}')).rejects.toThrow(
      refusal(YAML_INJECTION),
    )
  })

  it('refuses a per-item mapping keyed by name, as calicoctl does', async () => {
    const pools = list('IPPool', [
      {apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {name: 'a'}, spec: {cidr: '10.0.0.0/16'}},
      {apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: {name: 'b'}, spec: {cidr: '10.1.0.0/16'}},
    ])
    await expect(formatResources([pools], 'go-template={{range .}}{{range .Items}}{{.Name}}: {{.Spec.CIDR}}\n{{end}}{{end}}')).rejects.toThrow(
      refusal(INVALID_YAML_TEMPLATE),
    )
    expect(await formatResources([pools], 'go-template={{range .}}{{range .Items}}- {{.Name}}\n{{end}}{{end}}')).toBe('- a\n- b\n')
  })
})
