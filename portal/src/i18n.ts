// i18next with the two complete locales; the choice is remembered per browser (localStorage 'berth.lang').
// English is bundled; Chinese (and antd's Chinese component texts) load when chosen, before the first render
// when it is the saved choice.
import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import enUS from './locales/en-US/translation.json';

export const LANGUAGES = [
  { code: 'en-US', label: 'English' },
  { code: 'zh-CN', label: '简体中文' },
] as const;
export type Lang = (typeof LANGUAGES)[number]['code'];

const STORAGE_KEY = 'berth.lang';

function initialLanguage(): Lang {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved === 'en-US' || saved === 'zh-CN') return saved;
  return navigator.language?.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en-US';
}

async function loadBundle(lang: Lang): Promise<void> {
  if (lang === 'en-US' || i18n.hasResourceBundle(lang, 'translation')) return;
  const zh = await import('./locales/zh-CN/translation.json');
  i18n.addResourceBundle(lang, 'translation', zh.default, true, true);
}

export async function initI18n(): Promise<void> {
  const lng = initialLanguage();
  await i18n.use(initReactI18next).init({
    resources: { 'en-US': { translation: enUS } },
    partialBundledLanguages: true,
    lng: 'en-US',
    fallbackLng: 'en-US',
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  if (lng !== 'en-US') {
    await loadBundle(lng);
    await i18n.changeLanguage(lng);
  }
  document.documentElement.lang = i18n.language;
}

export async function setLanguage(lang: Lang): Promise<void> {
  localStorage.setItem(STORAGE_KEY, lang);
  await loadBundle(lang);
  document.documentElement.lang = lang;
  await i18n.changeLanguage(lang);
}

export default i18n;
