export * from 'typebox/compile';
