import {describe, expect, it} from 'vitest'

import {ResourceAlreadyExistsError, ResourceDoesNotExistError} from '../../src/api/errors.js'
import type {Resource} from '../../src/api/resource.js'
import {InputError} from '../../src/cli/input.js'
import {
  getCommandError,
  getResourceErrors,
  goErrorList,
  massage,
  reportCreateApplyValidate,
  reportDelete,
  reportPatch,
  reportReplace,
} from '../../src/cli/messages.js'
import type {CommandResults, ResourceFailure} from '../../src/cli/resourcemgr/execute.js'

function gns(name: string): Resource {
  return {apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkSet', metadata: {name}}
}

function failure(error: Error, name = 'net-set1', document?: number): ResourceFailure {
  return document === undefined ? {error, resource: gns(name)} : {error, resource: gns(name), file: 'in.yaml', document}
}

function results(r: Partial<CommandResults>): CommandResults {
  return {fileInvalid: false, numResources: 0, numHandled: 0, singleKind: '', results: [], resErrs: [], ...r}
}

const exists = new ResourceAlreadyExistsError('GlobalNetworkSet(net-set1)')
const missing = new ResourceDoesNotExistError('IPPool(blah)')

describe('create/apply/validate reports', () => {
  it('success, single kind and mixed', () => {
    expect(reportCreateApplyValidate('create', results({numResources: 2, numHandled: 2, singleKind: 'IPPool'}))).toEqual({
      stdout: "Successfully created 2 'IPPool' resource(s)\n",
    })
    expect(reportCreateApplyValidate('validate', results({numResources: 2, numHandled: 2}))).toEqual({
      stdout: 'Successfully validated 2 resource(s)\n',
    })
  })

  it('a single failed resource', () => {
    expect(
      reportCreateApplyValidate('create', results({numResources: 1, singleKind: 'GlobalNetworkSet', resErrs: [failure(exists)]})).error,
    ).toBe("failed to create 'GlobalNetworkSet' resource: [resource already exists: GlobalNetworkSet(net-set1) with error: <nil>]")
  })

  it('all of several failed: the list, then where each came from', () => {
    const r = reportCreateApplyValidate(
      'apply',
      results({numResources: 2, singleKind: 'GlobalNetworkSet', resErrs: [failure(new Error('e1'), 'a', 1), failure(new Error('e2'), 'b', 2)]}),
    )
    expect(r.stdout).toBe('')
    expect(r.error).toBe(
      "failed to apply any 'GlobalNetworkSet' resources: [e1 e2]\n  in.yaml document 1: GlobalNetworkSet(a): e1\n  in.yaml document 2: GlobalNetworkSet(b): e2",
    )
    expect(reportCreateApplyValidate('apply', results({numResources: 2, resErrs: [failure(new Error('e1')), failure(new Error('e2'))]})).error).toBe(
      'failed to apply any resources: [e1 e2]',
    )
  })

  it('partial success keeps calicoctl arithmetic', () => {
    const twoOfThree = reportCreateApplyValidate('create', results({numResources: 3, numHandled: 2, singleKind: 'GlobalNetworkSet', resErrs: [failure(exists)]}))
    expect(twoOfThree.stdout).toBe("Partial success: created the first 2 out of 3 'GlobalNetworkSet' resources:\n")
    expect(twoOfThree.error).toMatch(/^hit error: \[resource already exists: GlobalNetworkSet\(net-set1\) with error: <nil>\]/)
    // 1 ok, 1 failed: 1 - 1 = 0, so no partial-success line.
    const oneOfTwo = reportCreateApplyValidate('create', results({numResources: 2, numHandled: 1, singleKind: 'GlobalNetworkSet', resErrs: [failure(exists)]}))
    expect(oneOfTwo.stdout).toBe('')
    expect(oneOfTwo.error).toMatch(/^hit error: \[/)
  })

  it('empty input and unreadable input', () => {
    expect(reportCreateApplyValidate('create', results({}))).toEqual({stdout: 'No resources specified\n'})
    expect(reportCreateApplyValidate('create', results({err: new Error('no resources specified in file x')})).error).toBe('no resources specified in file x')
    const bad = new InputError('error converting YAML to JSON: yaml: line 2: bad', 'x.yaml', 2)
    expect(reportCreateApplyValidate('create', results({err: bad, fileInvalid: true})).error).toBe(
      'failed to execute command: error converting YAML to JSON: yaml: line 2: bad (file x.yaml, document 2)',
    )
  })
})

describe('replace reports', () => {
  it('counts the failure as handled', () => {
    const r = reportReplace(results({numResources: 1, numHandled: 1, singleKind: 'GlobalNetworkSet', err: new ResourceDoesNotExistError('GlobalNetworkSet(net-set1)')}))
    expect(r.stdout).toBe("Partial success: replaced the first 1 out of 1 'GlobalNetworkSet' resources:\n")
    expect(r.error).toBe('hit error: resource does not exist: GlobalNetworkSet(net-set1) with error: <nil>')
    expect(reportReplace(results({numResources: 1, numHandled: 1, singleKind: 'IPPool'}))).toEqual({stdout: "Successfully replaced 1 'IPPool' resource(s)\n"})
  })
})

describe('delete reports', () => {
  it('successes on stdout, one line per failure on stderr', () => {
    const r = reportDelete(results({numResources: 3, numHandled: 2, singleKind: 'IPPool', resErrs: [failure(missing)]}))
    expect(r.stdout).toBe("Successfully deleted 2 'IPPool' resource(s)\n")
    expect(r.error).toBe("Failed to delete 'IPPool' resource: resource does not exist: IPPool(blah) with error: <nil>\n")
    expect(reportDelete(results({numResources: 1, resErrs: [failure(missing)]})).error).toBe(
      'Failed to delete resource: resource does not exist: IPPool(blah) with error: <nil>\n',
    )
  })
})

describe('patch and get', () => {
  it('patch', () => {
    expect(reportPatch(results({numResources: 1, numHandled: 1, singleKind: 'BGPPeer'}))).toEqual({stdout: "Successfully patched 1 'BGPPeer' resource\n"})
    expect(reportPatch(results({numResources: 1, numHandled: 1, singleKind: 'BGPPeer', err: new Error('x')})).error).toBe('hit error: x')
  })

  it('get', () => {
    expect(getCommandError(results({err: new Error("resource type 'somekind' is not supported")}))).toBe(
      "failed to get resources: resource type 'somekind' is not supported",
    )
    expect(getResourceErrors(results({resErrs: [failure(missing), failure(new Error('two'))]}))).toBe(
      'resource does not exist: IPPool(blah) with error: <nil>\ntwo',
    )
  })
})

describe('massage and goErrorList', () => {
  it.each([
    ['failed to execute command: error unmarshaling JSON: unknown field "unknown"', 'field in document is not recognized or is in the wrong location: unknown'],
    ['error unmarshaling JSON: while decoding JSON: json: cannot unmarshal', 'cannot unmarshal'],
    ['failed to execute command: error unmarshaling JSON: while decoding JSON: json: x', 'failed to execute command: error unmarshaling JSON: while decoding JSON: json: x'],
  ])('%s', (input, output) => {
    expect(massage(input)).toBe(output)
  })

  it('formats like Go', () => {
    expect(goErrorList([new Error('a'), new Error('b')])).toBe('[a b]')
  })
})

describe('unknown-field messages', () => {
  it('are reduced to calicoctl text whatever wraps them', () => {
    expect(massage('failed to execute command: field in document is not recognized or is in the wrong location: unknown (file x, document 1, field spec.unknown)')).toBe(
      'field in document is not recognized or is in the wrong location: unknown',
    )
  })
})
