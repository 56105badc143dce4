export * from 'oidc-provider';
export { default } from 'oidc-provider';
