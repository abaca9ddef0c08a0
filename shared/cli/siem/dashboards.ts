import type { Flavor } from './index-template.ts';

/**
 * The GuardDuty dashboard as saved objects, in the export NDJSON that Kibana and OpenSearch
 * Dashboards import (Stack Management → Saved objects → Import, or `POST
 * /api/saved_objects/_import`): one object per line with `type`, `id`, `attributes` and
 * `references`. Legacy `visualization` objects (aggregation based) import into both; the map
 * differs: Kibana 8 dropped the coordinate map for its Maps app (`map`), OpenSearch
 * Dashboards still has `tile_map`. Ids are fixed so a second import overwrites, never duplicates.
 */
interface SavedObject {
  type: string;
  id: string;
  attributes: Record<string, unknown>;
  references: { name: string; type: string; id: string }[];
}

const INDEX_PATTERN_ID = 'findings-router-guardduty';
const SEARCH_REF = 'kibanaSavedObjectMeta.searchSourceJSON.index';
/** ECS event.severity is GuardDuty's 0.0–10.0 × 10: High starts at 7.0, Critical at 9.0. */
const HIGH_OR_CRITICAL = 'event.severity >= 70';

const searchSource = (query = ''): { searchSourceJSON: string } => ({
  searchSourceJSON: JSON.stringify({ query: { query, language: 'kuery' }, filter: [], indexRefName: SEARCH_REF }),
});

const indexRef = (): SavedObject['references'] => [{ name: SEARCH_REF, type: 'index-pattern', id: INDEX_PATTERN_ID }];

const terms = (id: string, schema: string, field: string, size: number) => ({
  id,
  enabled: true,
  type: 'terms',
  schema,
  params: { field, size, order: 'desc', orderBy: '1', otherBucket: true, missingBucket: false },
});
const COUNT = { id: '1', enabled: true, type: 'count', schema: 'metric', params: {} };

const visualization = (id: string, title: string, visState: Record<string, unknown>): SavedObject => ({
  type: 'visualization',
  id,
  attributes: {
    title,
    description: '',
    visState: JSON.stringify({ title, ...visState }),
    uiStateJSON: '{}',
    version: 1,
    kibanaSavedObjectMeta: searchSource(),
  },
  references: indexRef(),
});

const barByTime = (id: string, title: string, splitField: string): SavedObject =>
  visualization(id, title, {
    type: 'histogram',
    params: { type: 'histogram', addLegend: true, legendPosition: 'right', addTooltip: true },
    aggs: [COUNT, { id: '2', enabled: true, type: 'date_histogram', schema: 'segment', params: { field: '@timestamp', interval: 'auto', min_doc_count: 1 } }, terms('3', 'group', splitField, 10)],
  });

const topTable = (id: string, title: string, field: string, size: number): SavedObject =>
  visualization(id, title, {
    type: 'table',
    params: { perPage: 10, showPartialRows: false, showMetricsAtAllLevels: false, showTotal: false },
    aggs: [COUNT, terms('2', 'bucket', field, size)],
  });

/** The remote IPs' locations: Kibana Maps (documents layer) or an OpenSearch Dashboards coordinate map. */
const remoteIpMap = (flavor: Flavor): SavedObject => {
  const title = 'GuardDuty: remote IP locations';
  if (flavor === 'opensearch') {
    return visualization('guardduty-remote-ip-map', title, {
      type: 'tile_map',
      params: { mapType: 'Scaled Circle Markers', isDesaturated: true, addTooltip: true, mapZoom: 2, mapCenter: [20, 0] },
      aggs: [COUNT, { id: '2', enabled: true, type: 'geohash_grid', schema: 'segment', params: { field: 'source.geo.location', autoPrecision: true, precision: 2, useGeocentroid: true } }],
    });
  }
  const layer = {
    id: 'guardduty-remote-ips',
    label: 'Remote IPs',
    type: 'GEOJSON_VECTOR',
    visible: true,
    sourceDescriptor: {
      type: 'ES_SEARCH',
      id: 'guardduty-remote-ips-source',
      geoField: 'source.geo.location',
      scalingType: 'CLUSTERS',
      tooltipProperties: ['source.ip', 'source.as.organization.name', 'rule.name', 'labels.severity_label'],
      indexPatternRefName: 'layer_0_source_index_pattern',
    },
    style: { type: 'VECTOR', properties: {} },
  };
  return {
    type: 'map',
    id: 'guardduty-remote-ip-map',
    attributes: {
      title,
      description: 'Where the remote IPs of GuardDuty findings are (source.geo.location)',
      layerListJSON: JSON.stringify([{ id: 'basemap', type: 'EMS_VECTOR_TILE', sourceDescriptor: { type: 'EMS_TMS', isAutoSelect: true }, visible: true }, layer]),
      mapStateJSON: JSON.stringify({ zoom: 1.5, center: { lon: 0, lat: 20 }, query: { query: '', language: 'kuery' }, filters: [] }),
      uiStateJSON: '{}',
    },
    references: [{ name: 'layer_0_source_index_pattern', type: 'index-pattern', id: INDEX_PATTERN_ID }],
  };
};

/** The latest High/Critical findings, newest first, with the console link (event.url, shown as a link). */
const latestHighFindings = (): SavedObject => ({
  type: 'search',
  id: 'guardduty-latest-high-critical',
  attributes: {
    title: 'GuardDuty: latest High and Critical findings',
    description: '',
    columns: ['labels.severity_label', 'rule.name', 'cloud.account.id', 'cloud.account.name', 'labels.resource', 'message', 'event.url'],
    sort: [['@timestamp', 'desc']],
    kibanaSavedObjectMeta: searchSource(HIGH_OR_CRITICAL),
  },
  references: indexRef(),
});

const indexPatternObject = (indexPattern: string): SavedObject => ({
  type: 'index-pattern',
  id: INDEX_PATTERN_ID,
  attributes: {
    title: indexPattern,
    timeFieldName: '@timestamp',
    // The console URL as a clickable link in the findings table.
    fieldFormatMap: JSON.stringify({ 'event.url': { id: 'url', params: { type: 'a', labelTemplate: 'Open in the GuardDuty console' } } }),
  },
  references: [],
});

/** Every saved object, dependencies first (index pattern, panels, then the dashboard). */
const dashboardObjects = (flavor: Flavor, indexPattern: string): SavedObject[] => {
  const panels = [
    barByTime('guardduty-by-severity', 'GuardDuty: findings over time by severity', 'labels.severity_label'),
    barByTime('guardduty-by-account', 'GuardDuty: findings over time by account', 'cloud.account.id'),
    topTable('guardduty-by-type', 'GuardDuty: findings by type', 'rule.name', 20),
    topTable('guardduty-top-resources', 'GuardDuty: top resources', 'labels.resource', 20),
    remoteIpMap(flavor),
    latestHighFindings(),
  ];
  const width = 24;
  const panelsJSON = panels.map((panel, index) => ({
    panelIndex: String(index + 1),
    gridData: { x: (index % 2) * width, y: Math.floor(index / 2) * 15, w: index === panels.length - 1 ? 48 : width, h: 15, i: String(index + 1) },
    embeddableConfig: {},
    panelRefName: `panel_${index}`,
    // The oldest panel version each supports (OpenSearch Dashboards keeps Kibana 7.10's); newer Kibanas migrate it up on import.
    version: flavor === 'opensearch' ? '7.10.2' : '7.17.0',
  }));
  const dashboard: SavedObject = {
    type: 'dashboard',
    id: 'guardduty-findings',
    attributes: {
      title: 'GuardDuty findings',
      description: 'Installed by findings-router siem setup',
      panelsJSON: JSON.stringify(panelsJSON),
      optionsJSON: JSON.stringify({ useMargins: true, hidePanelTitles: false }),
      timeRestore: true,
      timeFrom: 'now-7d',
      timeTo: 'now',
      version: 1,
      kibanaSavedObjectMeta: { searchSourceJSON: JSON.stringify({ query: { query: '', language: 'kuery' }, filter: [] }) },
    },
    references: panels.map((panel, index) => ({ name: `panel_${index}`, type: panel.type, id: panel.id })),
  };
  return [indexPatternObject(indexPattern), ...panels, dashboard];
};

/** Export NDJSON: one object per line, `\n`-terminated. */
const toNdjson = (objects: readonly SavedObject[]): string => objects.map((object) => `${JSON.stringify(object)}\n`).join('');

export { dashboardObjects, toNdjson, HIGH_OR_CRITICAL };
export type { SavedObject };
