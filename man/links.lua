-- pandoc filter for the man pages (man/md2man.sh): a link to another docs/
-- page names its man page; any other link to a file keeps only its text;
-- the page's own headings move up one level (its "##" sections become the
-- man page's sections, beside NAME and DESCRIPTION).
local pages = {
  ["README.md"] = "task-sync(1)",
  ["task.md"] = "task-sync-task(1)",
  ["step.md"] = "task-sync-step(1)",
  ["run.md"] = "task-sync-run(1)",
  ["report.md"] = "task-sync-report(1)",
  ["migrate.md"] = "task-sync-migrate(1)",
  ["config.md"] = "task-sync-config(1)",
  ["gc.md"] = "task-sync-gc(1)",
  ["serve.md"] = "task-sync-serve(1)",
  ["workers.md"] = "task-sync-worker(1)",
  ["step-types.md"] = "task-sync-step-types(7)",
  ["grading.md"] = "task-sync-grading(7)",
  ["exit-codes.md"] = "task-sync-exit-codes(7)",
}

function Link(el)
  if el.target:match("^%a+:") then
    return nil
  end
  local file = el.target:gsub("#.*$", ""):gsub("^.*/", "")
  local page = pages[file]
  if not page then
    return el.content
  end
  local text = pandoc.utils.stringify(el.content)
  if text == file or text == page then
    return pandoc.Strong({ pandoc.Str(page) })
  end
  local out = el.content
  out:insert(pandoc.Space())
  out:insert(pandoc.Str("(" .. page .. ")"))
  return out
end

function Header(el)
  if el.level > 1 then
    el.level = el.level - 1
  end
  return el
end
