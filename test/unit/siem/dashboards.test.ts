import { describe, expect, it } from 'vitest';
import { dashboardObjects, HIGH_OR_CRITICAL, toNdjson } from '../../../shared/cli/siem/dashboards.ts';
import { ecsMappings, type FieldMapping, type Flavor } from '../../../shared/cli/siem/index-template.ts';

/**
 * The dashboard's saved objects parse as Kibana / OpenSearch Dashboards export NDJSON: one
 * JSON object per line with type, id and attributes; every reference names an object in the
 * file; the JSON-in-a-string attributes parse; every field a panel reads is in the template.
 */
const FLAVORS: Flavor[] = ['elasticsearch', 'opensearch'];

/** Dotted paths of every leaf field the template maps. */
const mappedFields = (properties: Record<string, FieldMapping>, prefix = ''): Map<string, string> => {
  const out = new Map<string, string>();
  for (const [key, mapping] of Object.entries(properties)) {
    const path = `${prefix}${key}`;
    if ('properties' in mapping) for (const [p, t] of mappedFields(mapping.properties, `${path}.`)) out.set(p, t);
    else out.set(path, mapping.type);
  }
  return out;
};

const parseNdjson = (text: string): Record<string, any>[] => {
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, any>);
};

/** Every `field` value inside an object, at any depth. */
const fieldsIn = (value: unknown): string[] => {
  if (Array.isArray(value)) return value.flatMap(fieldsIn);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, item]) => (key === 'field' || key === 'geoField') && typeof item === 'string' ? [item] : fieldsIn(item));
};

describe('Dashboard saved objects', () => {
  it.each(FLAVORS)('%s: one object per line with type, id, attributes and resolvable references', (flavor) => {
    // Act
    const objects = parseNdjson(toNdjson(dashboardObjects(flavor, 'guardduty-*')));

    // Assess
    const ids = new Set(objects.map((o) => `${o.type}:${o.id}`));
    expect(ids.size).toBe(objects.length);
    for (const object of objects) {
      expect(typeof object.type).toBe('string');
      expect(typeof object.id).toBe('string');
      expect(typeof object.attributes?.title).toBe('string');
      for (const reference of object.references) expect(ids).toContain(`${reference.type}:${reference.id}`);
    }
  });

  it.each(FLAVORS)('%s: JSON-string attributes parse, panels refer by name, and every field read is mapped', (flavor) => {
    // Prepare
    const objects = parseNdjson(toNdjson(dashboardObjects(flavor, 'guardduty-*')));
    const mapped = mappedFields(ecsMappings(flavor).properties);

    // Act
    const parsed = objects.map((o) => {
      const a = o.attributes;
      return {
        object: o,
        visState: a.visState === undefined ? undefined : JSON.parse(a.visState),
        layers: a.layerListJSON === undefined ? undefined : JSON.parse(a.layerListJSON),
        panels: a.panelsJSON === undefined ? undefined : JSON.parse(a.panelsJSON),
        search: a.kibanaSavedObjectMeta === undefined ? undefined : JSON.parse(a.kibanaSavedObjectMeta.searchSourceJSON),
      };
    });

    // Assess
    const fields = parsed.flatMap((p) => [...fieldsIn(p.visState), ...fieldsIn(p.layers)]);
    expect(fields).toContain('source.geo.location');
    for (const field of fields) expect(mapped.has(field), field).toBe(true);
    expect(mapped.get('source.geo.location')).toBe('geo_point');
    for (const { object, search } of parsed) {
      if (search?.indexRefName !== undefined) expect(object.references.map((r: { name: string }) => r.name)).toContain(search.indexRefName);
    }
    const dashboard = parsed.find((p) => p.object.type === 'dashboard')!;
    const refNames = new Set(dashboard.object.references.map((r: { name: string }) => r.name));
    expect(dashboard.panels.length).toBe(6);
    for (const panel of dashboard.panels) expect(refNames).toContain(panel.panelRefName);
  });

  it('the findings table shows High and Critical only, newest first, with the console link as a link', () => {
    // Act
    const objects = dashboardObjects('elasticsearch', 'guardduty-*');
    const search = objects.find((o) => o.type === 'search')!;
    const pattern = objects.find((o) => o.type === 'index-pattern')!;

    // Assess
    expect(JSON.parse((search.attributes.kibanaSavedObjectMeta as { searchSourceJSON: string }).searchSourceJSON).query.query).toBe(HIGH_OR_CRITICAL);
    expect(search.attributes.sort).toEqual([['@timestamp', 'desc']]);
    expect(search.attributes.columns).toContain('event.url');
    expect(JSON.parse(pattern.attributes.fieldFormatMap as string)['event.url'].id).toBe('url');
    expect(pattern.attributes).toMatchObject({ title: 'guardduty-*', timeFieldName: '@timestamp' });
  });
});
