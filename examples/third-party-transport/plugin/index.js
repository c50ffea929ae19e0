export { default } from '../../shared/conformance.js'
