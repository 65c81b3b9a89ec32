import { Controller, Delete, Get, Inject, Param, Patch, Post, Put, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Contracts } from '@latchkey/contracts';
import { MessageBus } from '@latchkey/messaging';
import { Access, PUBLIC_URL } from '../auth/auth.guard';
import { Authenticator } from '../auth/authenticator';
import { publicBaseUrl, sessionHash } from '../auth/session-cookie';
import { RESOURCE_TYPES, SCHEMAS, scimError, SERVICE_PROVIDER_CONFIG } from './scim-metadata';

const SCIM_MEDIA_TYPE = 'application/scim+json';

function send(res: Response, status: number, body?: unknown, location?: string): void {
  if (location) res.setHeader('Location', location);
  res.status(status);
  if (body === undefined) {
    res.end();
    return;
  }
  res.type(SCIM_MEDIA_TYPE).send(JSON.stringify(body));
}

/**
 * SCIM 2.0 (RFC 7644) for identity providers: authenticated by a SCIM token (`POST
 * /api/v1/scim-tokens`), never by a person's token or session. Users and Groups are answered by
 * the access service; the discovery documents are static.
 */
@Controller('scim/v2')
export class ScimHttpController {
  constructor(
    private readonly bus: MessageBus,
    private readonly authenticator: Authenticator,
    @Inject(PUBLIC_URL) private readonly publicUrl: string | undefined,
  ) {}

  private bearer(req: Request): string | null {
    const match = /^Bearer\s+(\S+)$/i.exec(req.header('authorization') ?? '');
    return match ? match[1] : null;
  }

  private base(req: Request): string {
    return `${publicBaseUrl(req, this.publicUrl)}/scim/v2`;
  }

  /** Discovery documents need a token too (RFC 7644 4 leaves it open; Entra and Okta send one). */
  private async authorised(req: Request, res: Response): Promise<boolean> {
    const token = this.bearer(req);
    if (token) {
      const answer = await this.bus.request(Contracts.accessScimCall, {
        tokenHash: sessionHash(token),
        method: 'GET',
        resource: 'Users',
        query: { count: '0' },
        baseUrl: this.base(req),
      });
      if (answer) return true;
    }
    res.setHeader('WWW-Authenticate', 'Bearer realm="scim"');
    send(res, 401, scimError(401, 'A valid SCIM bearer token is required (POST /api/v1/scim-tokens).'));
    return false;
  }

  @Get('ServiceProviderConfig')
  @Access('scim')
  async serviceProviderConfig(@Req() req: Request, @Res() res: Response): Promise<void> {
    if (await this.authorised(req, res)) send(res, 200, SERVICE_PROVIDER_CONFIG(this.base(req)));
  }

  @Get('ResourceTypes')
  @Access('scim')
  async resourceTypes(@Req() req: Request, @Res() res: Response): Promise<void> {
    if (await this.authorised(req, res))
      send(res, 200, { schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: RESOURCE_TYPES.length, Resources: RESOURCE_TYPES });
  }

  @Get('Schemas')
  @Access('scim')
  async schemas(@Req() req: Request, @Res() res: Response): Promise<void> {
    if (await this.authorised(req, res))
      send(res, 200, { schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: SCHEMAS.length, Resources: SCHEMAS });
  }

  @Get('Users')
  @Access('scim')
  listUsers(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.forward(req, res, 'Users', undefined);
  }

  @Post('Users')
  @Access('scim')
  createUser(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.forward(req, res, 'Users', undefined);
  }

  @Get('Users/:id')
  @Access('scim')
  getUser(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.forward(req, res, 'Users', id);
  }

  @Put('Users/:id')
  @Access('scim')
  replaceUser(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.forward(req, res, 'Users', id);
  }

  @Patch('Users/:id')
  @Access('scim')
  patchUser(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.forward(req, res, 'Users', id);
  }

  @Delete('Users/:id')
  @Access('scim')
  deleteUser(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.forward(req, res, 'Users', id);
  }

  @Get('Groups')
  @Access('scim')
  listGroups(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.forward(req, res, 'Groups', undefined);
  }

  @Post('Groups')
  @Access('scim')
  createGroup(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.forward(req, res, 'Groups', undefined);
  }

  @Get('Groups/:id')
  @Access('scim')
  getGroup(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.forward(req, res, 'Groups', id);
  }

  @Put('Groups/:id')
  @Access('scim')
  replaceGroup(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.forward(req, res, 'Groups', id);
  }

  @Patch('Groups/:id')
  @Access('scim')
  patchGroup(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.forward(req, res, 'Groups', id);
  }

  @Delete('Groups/:id')
  @Access('scim')
  deleteGroup(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.forward(req, res, 'Groups', id);
  }

  private async forward(req: Request, res: Response, resource: 'Users' | 'Groups', id: string | undefined): Promise<void> {
    const token = this.bearer(req);
    const query: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.query)) if (typeof v === 'string') query[k] = v.slice(0, 2000);
    const answer = token
      ? await this.bus.request(Contracts.accessScimCall, {
          tokenHash: sessionHash(token),
          method: req.method as 'GET',
          resource,
          ...(id !== undefined ? { id: id.slice(0, 200) } : {}),
          query,
          ...(req.body !== undefined && ['POST', 'PUT', 'PATCH'].includes(req.method) ? { body: req.body } : {}),
          baseUrl: this.base(req),
        })
      : null;
    if (!answer) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="scim"');
      send(res, 401, scimError(401, 'A valid SCIM bearer token is required (POST /api/v1/scim-tokens).'));
      return;
    }
    // A user changed or deleted by the IdP keeps no cached rights on this gateway.
    if (resource === 'Users' && id !== undefined && req.method !== 'GET') this.authenticator.forgetUser(id);
    if (resource === 'Groups' && req.method !== 'GET') this.authenticator.forgetAll();
    send(res, answer.status, answer.body, answer.location);
  }
}
