// Tiny SVG charts (no chart library): a donut for a split and horizontal bars for a ranking.
import { useThemeMode } from '../theme.ts';

const COLORS = ['#1677ff', '#52c41a', '#faad14', '#eb2f96', '#13c2c2', '#722ed1', '#fa541c', '#2f54eb'];

export function Donut({ parts, label, size = 160 }: { parts: { label: string; value: number }[]; label: string; size?: number }) {
  const { mode } = useThemeMode();
  const total = parts.reduce((s, p) => s + p.value, 0);
  const r = size / 2 - 14;
  const c = 2 * Math.PI * r;
  let offset = 0;
  return (
    <figure style={{ margin: 0, display: 'flex', alignItems: 'center', gap: 16 }}>
      <svg width={size} height={size} viewBox={`0 0 ${size} ${size}`} role="img" aria-label={`${label}: ${parts.map((p) => `${p.label} ${p.value}`).join(', ')}`}>
        <circle cx={size / 2} cy={size / 2} r={r} fill="none" stroke={mode === 'dark' ? '#303030' : '#f0f0f0'} strokeWidth={20} />
        {total > 0 &&
          parts.map((p, i) => {
            const len = (p.value / total) * c;
            const el = (
              <circle
                key={p.label}
                cx={size / 2}
                cy={size / 2}
                r={r}
                fill="none"
                stroke={COLORS[i % COLORS.length]}
                strokeWidth={20}
                strokeDasharray={`${len} ${c - len}`}
                strokeDashoffset={-offset}
                transform={`rotate(-90 ${size / 2} ${size / 2})`}
              />
            );
            offset += len;
            return el;
          })}
        <text x="50%" y="50%" textAnchor="middle" dominantBaseline="central" fontSize={22} fontWeight={600} fill={mode === 'dark' ? '#fff' : '#000'}>
          {total}
        </text>
      </svg>
      <figcaption>
        {parts.map((p, i) => (
          <div key={p.label}>
            <span style={{ display: 'inline-block', width: 10, height: 10, background: COLORS[i % COLORS.length], marginRight: 6 }} />
            {p.label}: {p.value}
          </div>
        ))}
      </figcaption>
    </figure>
  );
}

export function Bars({ rows, label, format }: { rows: { label: string; value: number }[]; label: string; format: (n: number) => string }) {
  const { mode } = useThemeMode();
  const max = Math.max(1, ...rows.map((r) => r.value));
  const h = 22;
  const width = 560;
  const labelW = 160;
  return (
    <svg width="100%" viewBox={`0 0 ${width} ${Math.max(1, rows.length) * (h + 6)}`} role="img" aria-label={label} style={{ maxWidth: width }}>
      {rows.map((r, i) => {
        const w = ((width - labelW - 90) * r.value) / max;
        const y = i * (h + 6);
        return (
          <g key={r.label}>
            <text x={0} y={y + h / 2} dominantBaseline="central" fontSize={12} fill={mode === 'dark' ? '#ddd' : '#333'}>
              {r.label.length > 22 ? `${r.label.slice(0, 21)}…` : r.label}
            </text>
            <rect x={labelW} y={y} width={Math.max(1, w)} height={h} fill={COLORS[0]} rx={3} />
            <text x={labelW + w + 6} y={y + h / 2} dominantBaseline="central" fontSize={12} fill={mode === 'dark' ? '#ddd' : '#333'}>
              {format(r.value)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
