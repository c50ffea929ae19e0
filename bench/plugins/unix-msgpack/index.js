export { default } from '../../../examples/shared/conformance.js'
