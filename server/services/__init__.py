"""What the routes do, once, for the JSON API (`server/api/`) and the pages (`server/pages/`) alike.

Each module takes the acting user and plain values (no request, no response), checks rights and scope,
reads or writes through the models and the sync engine, and raises `errors.problem(name)` when it
refuses. The routes only parse, call one of these and render JSON or HTML.

    tree        walking the unit tree (any depth)
    units       units in scope, a unit's detail, rename / move / merge with the role and scope checked
    unit_changes  the rename / move / merge writes, each kept in the unit's history
    checklists  create for a unit, template and period; progress; list in scope; one with answers
    sessions    log in and out
    deadlines   what each unit owes (due_items: overdue until that template and period is handed in)
    deadline_rules  the province's calendar as data: list, add and edit rules, each naming its source
    devices     register (idempotent), bind to a session, revoke a device and end its session
    accounts    an admin's users: end their sessions, deactivate and reactivate them
"""
