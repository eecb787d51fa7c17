// Usage: node client.mjs URL TOKEN ORG BUCKET
// Writes points with the official client (batched; gzip once a batch passes 1000 bytes, sent chunked),
// queries them back, checks an error answer, and prints one JSON object for the test to check.
import { InfluxDB, Point, HttpError } from '@influxdata/influxdb-client'

const [url, token, org, bucket] = process.argv.slice(2)
const influx = new InfluxDB({ url, token })
const out = {}

const write = influx.getWriteApi(org, bucket, 's', { batchSize: 500, flushInterval: 0, maxRetries: 0 })
for (let i = 0; i < 300; i++) {
  write.writePoint(new Point('js').tag('host', `h${i % 3}`).floatField('v', i).intField('n', i).timestamp(1700000000 + i))
}
await write.close()

const query = influx.getQueryApi(org)
const rows = await query.collectRows(
  `from(bucket: "${bucket}") |> range(start: 2023-11-01T00:00:00Z) |> filter(fn: (r) => r._measurement == "js" and r._field == "v") |> sum()`)
out.sums = Object.fromEntries(rows.map(r => [r.host, r._value]))
out.valueType = typeof rows[0]._value

try {
  await query.collectRows('from(bucket: "no-such-bucket") |> range(start: 0)')
  out.missingBucket = 'no error'
} catch (e) {
  out.missingBucket = e instanceof HttpError ? { status: e.statusCode, code: e.json && e.json.code, message: e.json && e.json.message } : String(e)
}

const bad = influx.getWriteApi(org, bucket, 'ns', { maxRetries: 0 })
bad.writeRecord('js v=oops 1')
try {
  await bad.close()
  out.badWrite = 'no error'
} catch (e) {
  out.badWrite = e instanceof HttpError ? { status: e.statusCode, message: e.json && e.json.message } : String(e)
}

console.log(JSON.stringify(out))
