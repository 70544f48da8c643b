// A twin on a real server (when it has /v1/twins, docs/twins.md): the
// repository's twins/t1d-cgm.json definition with a small ensemble, and a
// FHIR bundle for a synthetic patient (consent, CGM every 5 min, a meal
// and an insulin bolus). All identifiers below are invented.

import fs from "node:fs";
import path from "node:path";

const PATIENT = "Patient/e2e-synthetic";

function time(minute) {
  const h = 6 + Math.floor(minute / 60);
  return `2024-05-02T${String(h).padStart(2, "0")}:${String(minute % 60).padStart(2, "0")}:00Z`;
}

export function cgm(id, minute, value) {
  return {
    resourceType: "Observation", id, status: "final",
    code: { coding: [{ system: "http://loinc.org", code: "99504-3" }] },
    subject: { reference: PATIENT },
    effectiveDateTime: time(minute),
    valueQuantity: { value, unit: "mg/dL", system: "http://unitsofmeasure.org", code: "mg/dL" },
  };
}

export function bundle(resources) {
  return { resourceType: "Bundle", type: "collection", entry: resources.map((resource) => ({ resource })) };
}

const patient = () => ({ resourceType: "Patient", id: "e2e-synthetic", identifier: [{ system: "urn:e2e:synthetic", value: "E2E-0001" }], gender: "female", birthDate: "1990-01-01" });

/** Later data: the patient (the twin matches records by its pseudonym) and new CGM values. */
export function observationBundle(readings) {
  return bundle([patient(), ...readings]);
}

export function creationBundle() {
  const resources = [
    patient(),
    { resourceType: "Consent", id: "consent-e2e", status: "active", scope: { coding: [{ system: "http://terminology.hl7.org/CodeSystem/consentscope", code: "research" }] }, patient: { reference: PATIENT }, provision: { type: "permit" } },
    {
      resourceType: "Observation", id: "meal-1", status: "final",
      code: { coding: [{ system: "http://loinc.org", code: "9059-7" }] },
      subject: { reference: PATIENT }, effectiveDateTime: time(20),
      valueQuantity: { value: 40, unit: "g", system: "http://unitsofmeasure.org", code: "g" },
    },
    {
      resourceType: "MedicationAdministration", id: "ins-1", status: "completed",
      medicationCodeableConcept: { coding: [{ system: "http://www.nlm.nih.gov/research/umls/rxnorm", code: "1653196" }] },
      subject: { reference: PATIENT }, effectiveDateTime: time(20),
      dosage: { route: { coding: [{ system: "http://snomed.info/sct", code: "34206005" }] }, dose: { value: 4, unit: "U", system: "http://unitsofmeasure.org", code: "U" } },
    },
  ];
  for (let k = 0; k < 12; k += 1) resources.push(cgm(`cgm-${k}`, 5 * k, 120 + 2 * k));
  return bundle(resources);
}

export function definition(repoRoot) {
  const d = JSON.parse(fs.readFileSync(path.join(repoRoot, "twins", "t1d-cgm.json"), "utf8"));
  d.assimilation.ensemble_size = 10;
  return d;
}
