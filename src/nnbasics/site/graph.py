"""Draw a scalar-autograd graph (``nnbasics.Value``) for the chain-rule page, as inline SVG."""

import html


def draw(root, width=None):
    """Draw the graph under ``root`` as an SVG string, left (inputs) to right (output).

    Each value is a box with its label, ``data`` and ``grad``; each operation
    a circle. Colours come from ``currentColor``, so the drawing follows the
    page's light or dark theme.

    Parameters
    ----------
    root : Value
    width : int, optional
        Width attribute of the SVG (it scales; default: natural size).

    Returns
    -------
    str
        An ``<svg>`` element.
    """
    order = root.topo_order()
    depth = {}
    for node in order:  # inputs first, so children are placed before their users
        depth[id(node)] = 1 + max((depth[id(c)] for c in node._prev), default=-1)
    col_x = {d: 30 + d * 260 for d in set(depth.values())}
    rows = {}
    pos = {}
    for node in order:
        d = depth[id(node)]
        pos[id(node)] = (col_x[d], 30 + rows.get(d, 0) * 80)
        rows[d] = rows.get(d, 0) + 1
    box_w, box_h, op_dx = 150, 44, -45
    parts = []
    for node in order:
        x, y = pos[id(node)]
        for child in node._prev:
            cx, cy = pos[id(child)]
            tx, ty = (x + op_dx, y + box_h / 2) if node._op else (x, y + box_h / 2)
            parts.append(
                f'<path d="M{cx + box_w},{cy + box_h / 2} C{cx + box_w + 40},{cy + box_h / 2} '
                f'{tx - 40},{ty} {tx - 14},{ty}" fill="none" stroke="currentColor" stroke-opacity="0.5"/>'
            )
        if node._op:
            ox, oy = x + op_dx, y + box_h / 2
            parts.append(
                f'<circle cx="{ox}" cy="{oy}" r="14" fill="none" stroke="currentColor"/>'
                f'<text x="{ox}" y="{oy + 4}" text-anchor="middle" font-size="11">{html.escape(node._op)}</text>'
                f'<line x1="{ox + 14}" y1="{oy}" x2="{x}" y2="{oy}" stroke="currentColor" stroke-opacity="0.5"/>'
            )
        name = html.escape(node.label) + " | " if node.label else ""
        parts.append(
            f'<rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="6" fill="none" stroke="currentColor"/>'
            f'<text x="{x + box_w / 2}" y="{y + 18}" text-anchor="middle" font-size="12">'
            f"{name}data {node.data:.4g}</text>"
            f'<text x="{x + box_w / 2}" y="{y + 35}" text-anchor="middle" font-size="12" '
            f'fill="#e8710a">grad {node.grad:.4g}</text>'
        )
    w = max(col_x.values()) + box_w + 30
    h = 30 + max(rows.values()) * 80
    size = f' width="{width}"' if width else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}"{size} role="img" '
        f'aria-label="computational graph" fill="currentColor" font-family="sans-serif">' + "".join(parts) + "</svg>"
    )
