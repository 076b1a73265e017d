#!/usr/bin/env node
// Reference verdicts from fqm-execution (the engine MADiE and Bonnie use), for checking caregaps.
//
//   node scripts/reference/fqm_verdicts.js --bundle MEASURE [--bundle MORE...] --valuesets DIR \
//        [--period-start ISO --period-end ISO] PATIENT...
//
// MEASURE: a Bundle, a single Measure/Library JSON, or a directory of such files. Only Measure,
//          Library and ValueSet resources are kept from them; the Libraries must carry ELM
//          (application/elm+json).
// DIR:     ValueSet JSON files (each a ValueSet with an expansion, or a Bundle of them).
// PATIENT: a Bundle, or a directory with one resource per JSON file (an official test case).
//          A MeasureReport in it is not evaluated: its populations are printed as "expected".
// Prints one JSON line per PATIENT. Population values are 1 (in) or 0 (not), null when the
// measure has no such population. See README.md in this directory.
//
// cql-execution gives date-only and partial FHIR dateTimes (no offset) the offset of the host's
// timezone, which changes some verdicts; TZ is therefore UTC unless you set it yourself.
'use strict';
if (!process.env.TZ) process.env.TZ = 'UTC';
const fs = require('fs');
const path = require('path');

function loadFqm() {
  try {
    return require('fqm-execution'); // NODE_PATH, or an install next to this script
  } catch (e) {
    return require(require.resolve('fqm-execution', { paths: ['/work/fqm'] }));
  }
}

const POPULATIONS = ['initial-population', 'denominator', 'denominator-exclusion', 'denominator-exception', 'numerator'];

function readResources(p) {
  if (fs.statSync(p).isDirectory()) {
    return fs.readdirSync(p).filter(f => f.endsWith('.json')).sort()
      .flatMap(f => readResources(path.join(p, f)));
  }
  const json = JSON.parse(fs.readFileSync(p, 'utf8'));
  return json.resourceType === 'Bundle' ? (json.entry || []).map(e => e.resource) : [json];
}

function parseArgs(argv) {
  const args = { bundles: [], valuesets: null, start: undefined, end: undefined, patients: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--bundle') args.bundles.push(argv[++i]);
    else if (a === '--valuesets') args.valuesets = argv[++i];
    else if (a === '--period-start') args.start = argv[++i];
    else if (a === '--period-end') args.end = argv[++i];
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else args.patients.push(a);
  }
  if (!args.bundles.length || !args.patients.length) {
    throw new Error('usage: fqm_verdicts.js --bundle MEASURE --valuesets DIR [--period-start ISO --period-end ISO] PATIENT...');
  }
  return args;
}

// The interval fqm-execution evaluates: a date-only bound becomes 00:00:00.000Z / 23:59:59.999Z,
// any other is read as an instant and given offset 0 (the offset you wrote is not kept).
function effectivePeriod(start, end) {
  const iso = (s, suffix) => new Date(s.includes('T') ? s : s + suffix).toISOString();
  return [iso(start, 'T00:00:00.000Z'), iso(end, 'T23:59:59.999Z')];
}

function expectedFrom(measureReport) {
  if (!measureReport) return undefined;
  const out = {};
  for (const p of measureReport.group[0].population) out[p.code.coding[0].code] = p.count;
  return out;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const { Calculator } = loadFqm();

  const knowledge = args.bundles.flatMap(readResources)
    .filter(r => ['Measure', 'Library', 'ValueSet'].includes(r.resourceType));
  if (knowledge.filter(r => r.resourceType === 'Measure').length !== 1) {
    throw new Error('the measure bundle must hold exactly one Measure');
  }
  const measureBundle = { resourceType: 'Bundle', type: 'collection', entry: knowledge.map(resource => ({ resource })) };
  const valueSets = args.valuesets
    ? readResources(args.valuesets).filter(r => r.resourceType === 'ValueSet') : [];

  for (const patientPath of args.patients) {
    const resources = readResources(patientPath);
    const expected = expectedFrom(resources.find(r => r.resourceType === 'MeasureReport'));
    const patientBundle = {
      resourceType: 'Bundle', type: 'collection',
      entry: resources.filter(r => r.resourceType !== 'MeasureReport').map(resource => ({ resource })),
    };
    const options = {
      measurementPeriodStart: args.start, // undefined: the Measure's effectivePeriod
      measurementPeriodEnd: args.end,
      calculateHTML: false, calculateSDEs: false, calculateRAVs: false, calculateClauseCoverage: false,
      useElmJsonsCaching: true,
    };
    const line = { patient: patientPath };
    try {
      const { results } = await Calculator.calculate(measureBundle, [patientBundle], options, valueSets);
      const r = results[0];
      const pops = r.detailedResults[0].populationResults;
      line.patientId = r.patientId;
      line.populations = {};
      for (const code of POPULATIONS) {
        const p = pops.find(x => x.populationType === code);
        line.populations[code] = p ? (p.result ? 1 : 0) : null;
      }
      if (expected) {
        line.expected = expected;
        line.match = POPULATIONS.every(c => (expected[c] ?? null) === line.populations[c]);
      }
    } catch (e) {
      line.error = e.message;
    }
    if (options.measurementPeriodStart) line.period = effectivePeriod(options.measurementPeriodStart, options.measurementPeriodEnd);
    line.tz = process.env.TZ;
    console.log(JSON.stringify(line));
  }
}

main().catch(e => { console.error(e.message); process.exit(1); });
