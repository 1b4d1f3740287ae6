/**
 * The two AWS calls `npm run rollback` makes, on 127.0.0.1:0, so tests run the real SDK:
 * CloudFormation DescribeStacks (Query protocol: a form-encoded POST, an XML answer) and
 * S3 GetObject (path-style `GET /<bucket>/<key>`, as the SDK sends to an IP endpoint).
 * `stack` sets a stack's outputs, `object` stores an object; `requests` lists what arrived
 * ("DescribeStacks iam-service-prod", "GetObject <bucket>/<key>", or "<method> <url>" for anything else).
 * Point the SDK at it with AWS_ENDPOINT_URL_CLOUDFORMATION and AWS_ENDPOINT_URL_S3.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AwsDeploymentsStandIn {
  endpoint: string;
  stack(name: string, outputs: Record<string, string>): void;
  object(bucket: string, key: string, body: string): void;
  requests: string[];
  stop(): Promise<void>;
}

const xmlEscape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const CFN_NS = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

export async function startAwsDeployments(): Promise<AwsDeploymentsStandIn> {
  const stacks = new Map<string, Record<string, string>>();
  const objects = new Map<string, string>();
  const requests: string[] = [];

  const server = createServer((req, res) => {
    void body(req).then((text) => {
      const send = (status: number, xml: string) => {
        res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': 'stand-in' });
        res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
      };
      if (req.method === 'POST' && req.url === '/') {
        const form = new URLSearchParams(text);
        const action = form.get('Action') ?? '';
        const name = form.get('StackName') ?? '';
        requests.push(`${action} ${name}`);
        const outputs = stacks.get(name);
        if (action !== 'DescribeStacks' || !outputs) {
          const message = action === 'DescribeStacks' ? `Stack with id ${name} does not exist` : `The stand-in answers DescribeStacks only, not ${action}`;
          return send(400, `<ErrorResponse xmlns="${CFN_NS}"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>stand-in</RequestId></ErrorResponse>`);
        }
        const members = Object.entries(outputs)
          .map(([key, value]) => `<member><OutputKey>${xmlEscape(key)}</OutputKey><OutputValue>${xmlEscape(value)}</OutputValue></member>`)
          .join('');
        return send(
          200,
          `<DescribeStacksResponse xmlns="${CFN_NS}"><DescribeStacksResult><Stacks><member><StackName>${xmlEscape(name)}</StackName>` +
            `<StackId>arn:aws:cloudformation:eu-west-1:123456789012:stack/${xmlEscape(name)}/0</StackId><CreationTime>2026-11-20T09:12:01Z</CreationTime>` +
            `<StackStatus>UPDATE_COMPLETE</StackStatus><Outputs>${members}</Outputs></member></Stacks></DescribeStacksResult>` +
            `<ResponseMetadata><RequestId>stand-in</RequestId></ResponseMetadata></DescribeStacksResponse>`,
        );
      }
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://stand-in').pathname).slice(1);
      if (req.method === 'GET' && path.includes('/')) {
        requests.push(`GetObject ${path}`);
        const object = objects.get(path);
        if (object === undefined) {
          return send(404, `<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>${xmlEscape(path)}</Key></Error>`);
        }
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(object) });
        return res.end(object);
      }
      requests.push(`${req.method} ${req.url}`);
      send(400, '<Error><Code>InvalidRequest</Code><Message>Not served by the stand-in.</Message></Error>');
    }, () => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stack: (name, outputs) => void stacks.set(name, outputs),
    object: (bucket, key, text) => void objects.set(`${bucket}/${key}`, text),
    requests,
    stop() {
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
