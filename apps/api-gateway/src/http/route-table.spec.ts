import { allowedMethods } from './route-table';

describe('allowedMethods', () => {
  it('names the methods a known path answers, HEAD with GET', () => {
    expect(allowedMethods('/api/v1/tokens')).toEqual(['GET', 'HEAD', 'POST']);
    expect(allowedMethods('/api/v1/access-flows/0b4c2f0e-6f43-4a59-9d8c-2d0f0f0f0f0f')).toEqual(['GET', 'HEAD', 'PUT', 'DELETE']);
    expect(allowedMethods('/api/v1/access-requests/x/approve')).toEqual(['POST']);
  });

  it('is empty for a path no route has', () => {
    expect(allowedMethods('/api/v1/nothing')).toEqual([]);
    expect(allowedMethods('/api/v1/tokens/x/y/z')).toEqual([]);
  });
});
