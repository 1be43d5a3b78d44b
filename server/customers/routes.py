"""All CRM routes behind one ROUTERS entry: customers and KPIs, referral leads, console pages."""

from fastapi import APIRouter, FastAPI

from server.customers import api, face_pages, pages
from server.referrals import api as referrals_api

router = APIRouter()
router.include_router(api.router)
router.include_router(referrals_api.router)
router.include_router(pages.router)
router.include_router(face_pages.router)
router.include_router(face_pages.pages)


def setup(app: FastAPI) -> None:
    pages.setup(app)
    face_pages.setup()
