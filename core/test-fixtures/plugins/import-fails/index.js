// Throws while being imported.
throw new Error('module initialisation failed');
