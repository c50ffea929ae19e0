/** The dashboard and the workbench in a real browser (headless chromium): what a person sees and does. */
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import type { Page } from 'playwright-core'
import type { Dashboard } from '../src/dashboard/server.js'
import { createHost, type Host } from '../src/host/host.js'
import { launchBrowser, type Browser } from './support/browser.js'
import { exited, startDemo } from './support/demo-child.js'
import { examplesDir, root } from './support/paths.js'
import { npm, requires, tools } from './support/requires.js'

// The functions handed to waitForFunction run in the page, where `document` exists.
declare const document: { querySelector(selector: string): { textContent: string | null } | null; querySelectorAll(selector: string): { length: number } }

const images = `${root}docs/images`
const skip = requires(tools.chromium, npm('playwright-core'))

const cell = (page: Page, plugin: string, field: string) => page.locator(`tr[data-plugin="${plugin}"] td[data-field="${field}"]`)
const waitForCell = (page: Page, plugin: string, field: string, expected: string) =>
  page.waitForFunction(
    ([p, f, e]) => document.querySelector(`tr[data-plugin="${p}"] td[data-field="${f}"]`)?.textContent?.startsWith(e) === true,
    [plugin, field, expected] as const,
    { timeout: 90_000 },
  )

// Ceilings for a loaded machine, not goals.
const PATIENCE = { timeout: 90_000 }

describe('dashboard in a browser', { skip, timeout: 600_000 }, () => {
  let host: Host
  let dashboard: Dashboard
  let browser: Browser
  before(async () => {
    mkdirSync(images, { recursive: true })
    // A handful of plugins, one per placement: the page and the machine stay light even on a loaded CI runner.
    const plugins = ['js-inline', 'js-worker', 'js-process-stdio', 'js-process-unix', 'wasm-c-worker', 'python-stdio', 'native-c-process']
    host = await createHost({ plugins: plugins.map((p) => `${examplesDir}/${p}`), logger: () => {} })
    dashboard = await host.serveDashboard({ intervalMs: 500 })
    browser = await launchBrowser()
  })
  after(async () => {
    await browser?.close()
    await host?.close()
  })

  it('lists every plugin with its kind, placement and transport', async () => {
    await host.plugin('echo-worker').call('echo', ['warm'])
    await host.plugin('echo-process-unix').call('add', [1, 2])
    await host.plugin('wasm-c-worker').call('echo', [1])
    const page = await browser.context.newPage()
    await page.goto(dashboard.openUrl)
    await page.waitForSelector('#connection.live', PATIENCE)
    await page.waitForFunction((n) => document.querySelectorAll('tr[data-plugin]').length === n, host.list().length, PATIENCE)
    assert.equal(await cell(page, 'echo-process-unix', 'placement').textContent(), 'process')
    assert.equal(await cell(page, 'echo-process-unix', 'transport').textContent(), 'unix')
    assert.equal(await cell(page, 'wasm-c-worker', 'kind').textContent(), 'wasm')
    await page.waitForFunction(() => /rss/.test(document.querySelector('tr[data-plugin="echo-process-unix"] td[data-field="memory"]')?.textContent ?? ''), undefined, PATIENCE)
    await page.screenshot({ path: `${images}/dashboard.png` })
    await page.close()
  })

  it('shows a call made elsewhere without reloading', async () => {
    const page = await browser.context.newPage()
    await page.goto(dashboard.openUrl)
    await page.waitForSelector('tr[data-plugin="echo-inline"]', PATIENCE)
    const before = Number(await cell(page, 'echo-inline', 'calls').textContent())
    await host.plugin('echo-inline').call('echo', ['from the application'])
    await assert.rejects(host.plugin('echo-inline').call('fail', ['E_SHOWN']))
    await waitForCell(page, 'echo-inline', 'calls', String(before + 2))
    await waitForCell(page, 'echo-inline', 'errors', '1 (E_SHOWN ×1)')
    await page.close()
  })

  it('stops and restarts a process plugin from its row; the restarted one has a new process', async () => {
    const plugin = host.plugin('echo-process-stdio')
    await plugin.call('echo', [1])
    const firstPid = plugin.pid()
    const page = await browser.context.newPage()
    await page.goto(dashboard.openUrl)
    await waitForCell(page, 'echo-process-stdio', 'status', 'active')
    await page.locator('tr[data-plugin="echo-process-stdio"] button[data-action="stop"]').click()
    await waitForCell(page, 'echo-process-stdio', 'status', 'inactive')
    assert.equal(plugin.info().status, 'inactive')
    await page.locator('tr[data-plugin="echo-process-stdio"] button[data-action="restart"]').click()
    await waitForCell(page, 'echo-process-stdio', 'status', 'active')
    assert.equal(plugin.info().status, 'active')
    assert.notEqual(plugin.pid(), firstPid)
    assert.ok(host.logs('echo-process-stdio').some((r) => r.message.startsWith('dashboard: restart')))
    await page.close()
  })

  it('calls a method with JSON arguments from a row\'s details, next to its recent log lines', async () => {
    const page = await browser.context.newPage()
    await page.goto(dashboard.openUrl)
    await waitForCell(page, 'echo-worker', 'status', 'active')
    await page.locator('tr[data-plugin="echo-worker"]').click()
    const details = page.locator('tr[data-details="echo-worker"]')
    await details.locator('select').selectOption('add')
    await details.locator('textarea').fill('[40, 2]')
    await details.locator('button[data-action="call"]').click()
    await page.waitForFunction(() => document.querySelector('tr[data-details="echo-worker"] .call-result')?.textContent === '42', undefined, PATIENCE)
    await page.waitForFunction(() => /dashboard: call add/.test(document.querySelector('tr[data-details="echo-worker"] .logs')?.textContent ?? ''), undefined, PATIENCE)
    await page.screenshot({ path: `${images}/dashboard-details.png` })
    await page.close()
  })

  it('refuses an action from a page without the token, and the plugin keeps running', async () => {
    await host.plugin('echo-worker').call('echo', [1])
    const page = await browser.context.newPage()
    await page.goto(dashboard.url) // no #token=
    await waitForCell(page, 'echo-worker', 'status', 'active')
    assert.equal(await page.locator('#token').inputValue(), '')
    await page.locator('tr[data-plugin="echo-worker"] button[data-action="stop"]').click()
    await page.waitForFunction(() => /PERMISSION_DENIED/.test(document.querySelector('#notice')?.textContent ?? ''), undefined, PATIENCE).catch(async (e: unknown) => {
      throw new Error(`notice: ${await page.locator('#notice').textContent()}; ${String(e)}`)
    })
    assert.equal(host.plugin('echo-worker').info().status, 'active')
    assert.ok(host.logs('echo-worker').some((r) => r.message.includes('refused "stop"')))
    await page.close()
  })
})

describe('the workbench demo in a browser', { skip: skip || requires(tools.python3) }, () => {
  it('runs a feature from the page while the dashboard beside it shows the plugin', { timeout: 400_000 }, async () => {
    const demo = await startDemo(['--serve'])
    const browser = await launchBrowser()
    try {
      const page = await browser.context.newPage()
      await page.goto(demo.app)
      await page.locator('.feature[data-feature="csv"] button', { hasText: 'example' }).click()
      await page.locator('.feature[data-feature="csv"] button.run').click()
      await page.waitForFunction(() => /"median": 320732/.test(document.querySelector('#output')?.textContent ?? ''), undefined, PATIENCE)
      const frame = page.frameLocator('#dashboard')
      await frame.locator('tr[data-plugin="csv-summary"] td[data-field="status"]', { hasText: 'active' }).waitFor(PATIENCE)
      await page.screenshot({ path: `${images}/workbench.png` })
    } finally {
      await browser.close()
      demo.child.kill('SIGINT')
      assert.equal(await exited(demo.child), 0)
    }
  })
})
