// An S3 server for the tests: @20minutes/s3rver checks SigV4 signatures (the plain s3rver
// does not). Usage: node s3server.js PORT DIR BUCKET... (credentials S3RVER / S3RVER).
const S3rver = require('@20minutes/s3rver');
const [port, dir, ...buckets] = process.argv.slice(2);
new S3rver({ address: '127.0.0.1', port: Number(port), directory: dir, silent: true,
  configureBuckets: buckets.map((name) => ({ name, configs: [] })) })
  .run((err) => { if (err) { console.error(err); process.exit(1); } });
