import {} from 'node:fs'
